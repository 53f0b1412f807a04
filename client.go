package visengine

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/visengine-go/visengine/internal/transport"
)

// Version is the SDK's version, sent in the User-Agent.
const Version = "0.1.0"

// Base URLs of the two Visengine environments.
const (
	ProductionURL = "https://visengine2.altravia.com"
	SandboxURL    = "https://test.visengine2.altravia.com"
)

const (
	userAgent = "visengine-go/" + Version + " (+https://github.com/visengine-go/visengine)"

	// maxErrorBody caps what is read of a failed answer: an error envelope is
	// a few hundred bytes, an HTML error page should not fill memory.
	maxErrorBody = 1 << 20
	// maxResponseBody caps a successful JSON answer (a list of thousands of
	// richieste stays far below it). Documents are streamed, not read here.
	maxResponseBody = 64 << 20
)

// Client talks to one Visengine environment with one token. It is safe for
// concurrent use; build it once with NewClient and share it. It holds no
// secret: the token lives in its transport, which sets the Authorization
// header on each attempt.
type Client struct {
	base      *url.URL
	userAgent string
	http      *transport.Client
	auth      tokenAuth   // the token source's checks and renewal; zero for a fixed token
	eo        exactlyOnce // closes' settle time and the journal (record.go)
	maxBody   int64       // cap of a 2xx JSON answer: maxResponseBody
}

type config struct {
	baseURL    string
	httpClient *http.Client
	logger     *slog.Logger
	userAgent  string
	token      transport.TokenFunc // the fixed token, or the token source's
	source     TokenSource         // WithTokenSource
	scopeHost  string              // WithScopeHost
	attempts   int
	minWait    time.Duration
	maxWait    time.Duration
	stall      time.Duration
	limiter    *transport.Limiter // WithRateLimit
	eo         exactlyOnce
}

// Option configures a Client.
type Option func(*config) error

// WithBaseURL points the client at another host, such as a proxy or the
// visenginetest fake. It must be HTTPS unless the host is a loopback address;
// it may have a path ("https://proxy.example.com/visengine"), which every
// endpoint's path is appended to.
func WithBaseURL(u string) Option {
	return func(c *config) error { c.baseURL = u; return nil }
}

// WithSandbox points the client at the sandbox, SandboxURL.
func WithSandbox() Option { return WithBaseURL(SandboxURL) }

// WithHTTPClient sends requests through hc's transport and timeout. The
// client is copied, so its redirect policy can be turned off without
// touching the caller's. Without it, the client has a transport of its own,
// net/http's default but for a pool sized for a backend: up to 256 idle
// connections to Visengine (net/http keeps 2 per host), closed after 90 s
// unused.
//
// The transport must send each request once: it must not retry, nor
// replay a request body on its own (after a reset, a 502 or a timeout), since
// a paid POST or PUT resent below the SDK can charge twice while the SDK
// reports one call. The SDK has its own retries, which resend only what
// provably never left the process. A transport known to retry
// (go-retryablehttp's *RoundTripper, as returned by its StandardClient,
// also inside a wrapper it can see) is refused with ErrInvalidArgument.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errorf("%w: WithHTTPClient(nil)", ErrInvalidArgument)
		}
		if retriesOnItsOwn(hc.Transport) {
			return invalidArg("WithHTTPClient", "transport retries requests on its own (go-retryablehttp), which could pay twice for one call")
		}
		c.httpClient = hc
		return nil
	}
}

// WithLogger logs one line per attempt: method, path, status, attempt and
// duration, and one when a token is renewed after a 401. Nothing is logged
// without it; the token, bodies, field values and query strings are never
// logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { c.logger = l; return nil }
}

// WithUserAgent puts product (for example "mycaf/1.2") before the SDK's own
// User-Agent.
func WithUserAgent(product string) Option {
	return func(c *config) error {
		if strings.ContainsAny(product, "\r\n") {
			return errorf("%w: WithUserAgent: line break in product", ErrInvalidArgument)
		}
		c.userAgent = strings.TrimSpace(product)
		return nil
	}
}

// WithRetry sets how many attempts a call may take in all (1 disables
// retries) and the bounds of the exponential, jittered wait between them.
// maxWait also caps a server's Retry-After. Default: 4 attempts, 500ms to 30s.
func WithRetry(attempts int, minWait, maxWait time.Duration) Option {
	return func(c *config) error {
		if attempts < 1 || minWait < 0 || maxWait < minWait {
			return errorf("%w: WithRetry needs attempts >= 1 and 0 <= minWait <= maxWait", ErrInvalidArgument)
		}
		c.attempts, c.minWait, c.maxWait = attempts, minWait, maxWait
		return nil
	}
}

// DefaultStallTimeout is how long an attempt may go without a byte sent or
// received before it is cut with ErrStalled; see WithStallTimeout.
const DefaultStallTimeout = 60 * time.Second

// WithStallTimeout sets how long one attempt may go without a byte sent or
// received — while connecting, writing the request, waiting for the
// answer's headers, or reading its body — before it is cut (default
// DefaultStallTimeout; 0 never cuts). It is not a total timeout: a download
// that keeps flowing, however slowly, is never cut, and time the caller
// spends between reads of a body (a slow io.Writer) does not count. Use the
// context for a deadline on the whole call.
//
// A cut attempt fails with an error matching ErrStalled (and, like a
// connection's deadlines, os.ErrDeadlineExceeded, with Timeout() true). A
// read (GET) is retried as for any transport failure; a POST or PUT that
// may have reached the server is not, and its error is an
// *OutcomeUnknownError, as for a dropped connection.
func WithStallTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return errorf("%w: WithStallTimeout needs d >= 0", ErrInvalidArgument)
		}
		c.stall = d
		return nil
	}
}

// WithTokenSource makes the client take its bearer token from ts, asked
// before every attempt, instead of NewClient's token argument, which must
// then be "". With a [TokenRenewer] (such as package oauth's TokenSource)
// a call answered 401 renews the token once and is sent once more; with
// a token whose Scopes are known, a call the scopes do not cover fails
// before anything is sent ([ErrMissingScope]; see [WithScopeHost]).
func WithTokenSource(ts TokenSource) Option {
	return func(c *config) error {
		if isNil(ts) {
			return errorf("%w: WithTokenSource(nil)", ErrInvalidArgument)
		}
		c.source = ts
		return nil
	}
}

// WithScopeHost names the Visengine host the token's scopes are for
// ("visengine2.altravia.com", or "test.visengine2.altravia.com" for the
// sandbox), for a client whose base URL is a proxy or a fake. Without it
// the host is the base URL's when that is ProductionURL or SandboxURL, and
// otherwise the one Visengine host the token's own scopes name.
func WithScopeHost(host string) Option {
	return func(c *config) error {
		if !validHost(host) {
			return errorf("%w: WithScopeHost needs a host name such as %q", ErrInvalidArgument, productionHost)
		}
		c.scopeHost = strings.ToLower(host)
		return nil
	}
}

// NewClient returns a client for token, by default on ProductionURL. With
// WithTokenSource, token must be "": the source supplies it. A bad token
// or option, or a token given with a source, is an error matching
// ErrInvalidArgument; it never quotes the token, nor a base URL's userinfo
// or query.
func NewClient(token string, opts ...Option) (*Client, error) {
	cfg := config{baseURL: ProductionURL, attempts: 4, minWait: 500 * time.Millisecond, maxWait: 30 * time.Second,
		stall: DefaultStallTimeout, eo: defaultExactlyOnce()}
	for _, opt := range opts {
		if opt == nil {
			return nil, invalidArg("option", "is nil")
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	if err := cfg.setToken(strings.TrimSpace(token)); err != nil {
		return nil, err
	}
	base, err := parseBaseURL(cfg.baseURL)
	if err != nil {
		return nil, err
	}
	ua := userAgent
	if cfg.userAgent != "" {
		ua = cfg.userAgent + " " + userAgent
	}
	tr := transport.New(transport.Config{HTTPClient: cfg.httpClient, Token: cfg.token, Logger: cfg.logger,
		Attempts: cfg.attempts, MinWait: cfg.minWait, MaxWait: cfg.maxWait, StallTimeout: cfg.stall, Limiter: cfg.limiter})
	return &Client{base: base, userAgent: ua, http: tr, auth: newTokenAuth(&cfg, base), eo: cfg.eo.ready(), maxBody: maxResponseBody}, nil
}

// parseBaseURL checks the base URL. Its errors show it through redactURL,
// without userinfo or query, where credentials may have been put.
func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || u.Host == "" || u.Opaque != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, errorf("%w: malformed base URL %s", ErrInvalidArgument, redactURL(raw))
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return nil, errorf("%w: base URL must be https (plain http only on loopback): %s", ErrInvalidArgument, redactURL(raw))
	}
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// String names the environment the client talks to. The client holds no
// secret, so every verb of fmt is safe on it.
func (c *Client) String() string {
	if c == nil {
		return "visengine.Client(nil)"
	}
	return "visengine.Client(" + c.BaseURL() + ")"
}

// BaseURL returns the environment the client talks to.
func (c *Client) BaseURL() string {
	if c == nil || c.base == nil {
		return ""
	}
	return c.base.String()
}

// CloseIdleConnections closes the connections the client keeps open
// between calls, and with them the goroutines that watch them, as
// net/http's Client.CloseIdleConnections does. Call it when dropping a
// client that will not be used again; it does not stop calls in progress,
// and a later call simply opens a new connection. With WithHTTPClient it
// closes the idle connections of that client's transport, which others may
// share.
func (c *Client) CloseIdleConnections() {
	if c != nil && c.http != nil {
		c.http.CloseIdleConnections()
	}
}

// ready checks what every call needs before anything else: a client made by
// NewClient and a context.
func (c *Client) ready(ctx context.Context) error {
	if c == nil || c.http == nil {
		return invalidArg("client", "is nil or not made by NewClient")
	}
	if ctx == nil {
		return invalidArg("context", "is nil")
	}
	return nil
}

// call is one logical API call: build the request, send it with the retry
// policy, decode the envelope into out (which may be nil).
func (c *Client) call(ctx context.Context, method, path string, body, out any) error {
	_, err := c.callMessage(ctx, method, path, body, out)
	return err
}

// callMessage is call that also returns the envelope's "message".
func (c *Client) callMessage(ctx context.Context, method, path string, body, out any) (string, error) {
	call, raw, err := c.newCall(ctx, method, path, body)
	if err != nil {
		return "", err
	}
	resp, err := c.send(ctx, call, raw)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	return decodeResult(ctx, resp, call, c.maxBody, out)
}

// stream sends a GET and, on a 2xx answer, hands the open response to the
// caller, who must close its body. Any other answer is turned into the usual
// typed error here.
func (c *Client) stream(ctx context.Context, path string) (*http.Response, error) {
	call, _, err := c.newCall(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.send(ctx, call, nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	_, err = decodeResult(ctx, resp, call, c.maxBody, nil)
	return nil, err
}

// newCall checks the client and the context and encodes the body.
func (c *Client) newCall(ctx context.Context, method, path string, body any) (*transport.Call, []byte, error) {
	if err := c.ready(ctx); err != nil {
		return nil, nil, err
	}
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return nil, nil, errorf("visengine: encoding %s %s body: %w", method, path, err)
		}
	}
	return transport.NewCall(method, path), raw, nil
}

// endpoint is the URL of path under the base URL, whose own path (a proxy's
// prefix) is kept.
func (c *Client) endpoint(path string) string {
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	if u.RawPath != "" {
		// path is made of ids that need no escaping (see checkID), so the
		// base's escaped form extends the same way.
		u.RawPath = strings.TrimSuffix(u.RawPath, "/") + path
	}
	return u.String()
}

// sendOnce runs the call through the retry policy. A failure without an answer
// becomes an *OutcomeUnknownError when a non-idempotent request may have
// reached the server, and a plain wrapped error otherwise, which says when
// nothing was sent. send (auth.go) wraps it with the token's checks.
func (c *Client) sendOnce(ctx context.Context, call *transport.Call, body []byte) (*http.Response, error) {
	header := http.Header{}
	header.Set("Accept", "application/json")
	header.Set("User-Agent", c.userAgent)
	if body != nil {
		header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(ctx, call, c.endpoint(call.Path), header, body)
	if err == nil {
		return resp, nil
	}
	cause := unwrapURLError(err)
	switch {
	case !call.Idempotent && call.MaybeSent():
		return nil, &OutcomeUnknownError{Method: call.Method, Path: call.Path, SentAt: call.SentAt(), Err: cause}
	case call.Attempts() == 0:
		return nil, errorf("visengine: %s %s not sent: %w", call.Method, call.Path, cause)
	case !call.Idempotent:
		return nil, errorf("visengine: %s %s failed after %d attempt(s), none sent: %w", call.Method, call.Path, call.Attempts(), cause)
	}
	return nil, errorf("visengine: %s %s failed after %d attempt(s): %w", call.Method, call.Path, call.Attempts(), cause)
}

// unwrapURLError drops *url.Error's wrapping, whose text repeats the full URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

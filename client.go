package visengine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

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
// concurrent use; build it once with NewClient and share it.
type Client struct {
	base      *url.URL
	token     string
	userAgent string
	http      *retryablehttp.Client
}

type config struct {
	baseURL    string
	httpClient *http.Client
	logger     *slog.Logger
	userAgent  string
	attempts   int
	minWait    time.Duration
	maxWait    time.Duration
}

// Option configures a Client.
type Option func(*config) error

// WithBaseURL points the client at another host, such as a proxy or the
// visenginetest fake. It must be HTTPS unless the host is a loopback address.
func WithBaseURL(u string) Option {
	return func(c *config) error { c.baseURL = u; return nil }
}

// WithSandbox points the client at the sandbox, SandboxURL.
func WithSandbox() Option { return WithBaseURL(SandboxURL) }

// WithHTTPClient sends requests through hc's transport and timeout. The
// client is copied, so its redirect policy can be turned off without
// touching the caller's.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("visengine: WithHTTPClient(nil)")
		}
		c.httpClient = hc
		return nil
	}
}

// WithLogger logs one line per attempt: method, path, status, attempt and
// duration. Nothing is logged without it; the token, bodies, field values
// and query strings are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { c.logger = l; return nil }
}

// WithUserAgent puts product (for example "mycaf/1.2") before the SDK's own
// User-Agent.
func WithUserAgent(product string) Option {
	return func(c *config) error {
		if strings.ContainsAny(product, "\r\n") {
			return errors.New("visengine: WithUserAgent: line break in product")
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
			return errors.New("visengine: WithRetry needs attempts >= 1 and 0 <= minWait <= maxWait")
		}
		c.attempts, c.minWait, c.maxWait = attempts, minWait, maxWait
		return nil
	}
}

// NewClient returns a client for token, by default on ProductionURL.
func NewClient(token string, opts ...Option) (*Client, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, errors.New("visengine: empty token")
	}
	if strings.IndexFunc(token, func(r rune) bool { return r <= ' ' || r == 0x7f || r > '~' }) >= 0 {
		return nil, errors.New("visengine: token contains blanks, control or non-ASCII characters")
	}
	cfg := config{baseURL: ProductionURL, attempts: 4, minWait: 500 * time.Millisecond, maxWait: 30 * time.Second}
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	base, err := parseBaseURL(cfg.baseURL)
	if err != nil {
		return nil, err
	}
	ua := userAgent
	if cfg.userAgent != "" {
		ua = cfg.userAgent + " " + userAgent
	}
	return &Client{base: base, token: token, userAgent: ua, http: newRetryClient(cfg)}, nil
}

func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || u.Host == "" || u.Opaque != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("visengine: malformed base URL %q", raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return nil, fmt.Errorf("visengine: base URL must be https (plain http only on loopback): %q", raw)
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

func newRetryClient(cfg config) *retryablehttp.Client {
	var hc http.Client
	if cfg.httpClient != nil {
		hc = *cfg.httpClient
	}
	next := hc.Transport
	if next == nil {
		next = defaultTransport()
	}
	hc.Transport = &transport.RoundTripper{Next: next, Logger: cfg.logger}
	// A redirect would carry the Authorization header and, for a 307, the
	// body with personal data to a place we did not choose.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &retryablehttp.Client{
		HTTPClient:   &hc,
		RetryMax:     cfg.attempts - 1,
		RetryWaitMin: cfg.minWait,
		RetryWaitMax: cfg.maxWait,
		CheckRetry:   transport.CheckRetry,
		Backoff:      transport.Backoff,
		ErrorHandler: transport.KeepResponse,
	}
}

func defaultTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = 2 * time.Minute
	return t
}

// String describes the client without its token.
func (c *Client) String() string {
	return "visengine.Client(" + c.base.String() + ")"
}

// GoString is String, so %#v does not print the token either.
func (c *Client) GoString() string { return c.String() }

// Format prints String for every verb, so %+v cannot reach the token.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// BaseURL returns the environment the client talks to.
func (c *Client) BaseURL() string { return c.base.String() }

// call is one logical API call: build the request, send it with the retry
// policy, decode the envelope into out (which may be nil).
func (c *Client) call(ctx context.Context, method, path string, body, out any) error {
	req, call, err := c.newRequest(ctx, method, path, body)
	if err != nil {
		return err
	}
	resp, err := c.send(req, call)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return decodeResult(resp, call, out)
}

// stream sends a GET and, on a 2xx answer, hands the open response to the
// caller, who must close its body. Any other answer is turned into the usual
// typed error here.
func (c *Client) stream(ctx context.Context, path string) (*http.Response, error) {
	req, call, err := c.newRequest(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.send(req, call)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, decodeResult(resp, call, nil)
}

func (c *Client) newRequest(ctx context.Context, method, path string, body any) (*retryablehttp.Request, *transport.Call, error) {
	if ctx == nil {
		return nil, nil, invalidArg("context", "is nil")
	}
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return nil, nil, fmt.Errorf("visengine: encoding %s %s body: %w", method, path, err)
		}
	}
	call := &transport.Call{Idempotent: method == http.MethodGet || method == http.MethodHead}
	ctx = transport.WithCall(ctx, call)
	u := *c.base
	u.Path += path
	var rawBody any
	if raw != nil {
		rawBody = raw
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, u.String(), rawBody)
	if err != nil {
		return nil, nil, fmt.Errorf("visengine: building %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, call, nil
}

// send runs the request through the retry policy. A failure without an
// answer becomes an *OutcomeUnknownError when a non-idempotent request may
// have reached the server, and a plain wrapped error otherwise.
func (c *Client) send(req *retryablehttp.Request, call *transport.Call) (*http.Response, error) {
	resp, err := c.http.Do(req)
	if err == nil {
		return resp, nil
	}
	cause := unwrapURLError(err)
	if !call.Idempotent && call.MaybeSent() {
		return nil, &OutcomeUnknownError{Method: req.Method, Path: req.URL.Path, SentAt: call.SentAt(), Err: cause}
	}
	return nil, fmt.Errorf("visengine: %s %s failed after %d attempt(s): %w", req.Method, req.URL.Path, call.Attempts(), cause)
}

// unwrapURLError drops *url.Error's wrapping, whose text repeats the full URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// envelope is Visengine's answer around every payload.
type envelope struct {
	Data    json.RawMessage `json:"data"`
	Success *bool           `json:"success"`
	Message json.RawMessage `json:"message"`
	Error   json.RawMessage `json:"error"`
}

// decodeResult turns an answer into out or a typed error.
func decodeResult(resp *http.Response, call *transport.Call, out any) error {
	status := resp.StatusCode
	ok := status/100 == 2
	limit := int64(maxErrorBody)
	if ok {
		limit = maxResponseBody
	}
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	err := interpret(status, body, readErr, limit, out)
	if err != nil && !call.Idempotent && unknownOutcome(status, readErr, err) {
		ou := &OutcomeUnknownError{SentAt: call.SentAt(), Err: err}
		// A RoundTripper other than net/http's may leave Request unset.
		if req := resp.Request; req != nil {
			ou.Method = req.Method
			if req.URL != nil {
				ou.Path = req.URL.Path
			}
		}
		return ou
	}
	return err
}

// unknownOutcome says whether a non-idempotent call with this answer may
// still have been applied: a 5xx comes from a server or gateway that may have
// done the work, a 3xx (303 above all) often follows work done, and an
// answer cut short hides whether it did. A 2xx means
// the server took the call (and, for a paid one, charged it): unless the
// answer is a readable envelope with "success": false, a known refusal,
// whatever we could not interpret (no envelope, data we cannot decode, a body
// over the cap) hides an outcome that was probably a success, so it must not
// read as a plain failure that invites sending the call again.
func unknownOutcome(status int, readErr, err error) bool {
	if readErr != nil || status/100 != 2 && status/100 != 4 {
		return true // 5xx, and 3xx: "done, see elsewhere" after a POST
	}
	if status/100 != 2 {
		return false
	}
	var apiErr *APIError
	return !errors.As(err, &apiErr) || apiErr.unexpected
}

func interpret(status int, body []byte, readErr error, limit int64, out any) error {
	switch {
	case readErr != nil:
		return fmt.Errorf("%w: %w", unexpectedResponse(status, "reading body: %v", readErr), io.ErrUnexpectedEOF)
	case int64(len(body)) > limit:
		return unexpectedResponse(status, "body larger than %d bytes", limit)
	case status/100 == 3:
		return unexpectedResponse(status, "redirect not followed")
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return unexpectedResponse(status, "body is not a Visengine JSON envelope (%d bytes)", len(body))
	}
	if status/100 != 2 || env.Success == nil || !*env.Success {
		return envelopeError(status, env)
	}
	if out == nil {
		return nil
	}
	if len(env.Data) == 0 || string(env.Data) == "null" {
		return unexpectedResponse(status, "success without data")
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return unexpectedResponse(status, "decoding data: %s", describeJSONError(err))
	}
	return nil
}

// envelopeError builds the error for an envelope that is not a success.
func envelopeError(status int, env envelope) error {
	if env.Success == nil && status/100 == 2 {
		return unexpectedResponse(status, `envelope without "success"`)
	}
	return newAPIError(status, envelopeCode(env.Error), envelopeMessage(env.Message))
}

func envelopeCode(raw json.RawMessage) int {
	s := strings.Trim(string(bytes.TrimSpace(raw)), `"`)
	if v, err := json.Number(s).Int64(); err == nil {
		return int(v)
	}
	return 0
}

func envelopeMessage(raw json.RawMessage) string {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	return ""
}

// describeJSONError names what was wrong without quoting the input, which
// may hold personal data.
func describeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fmt.Sprintf("field %q: unexpected JSON %s", te.Field, te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("JSON syntax error at byte %d", se.Offset)
	case errors.Is(err, ErrUnexpectedResponse), errors.Is(err, ErrBadPrice):
		return err.Error() // our decoders' own messages never quote the input
	}
	return "invalid JSON"
}

package transport

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Config is what New needs to build a Client.
type Config struct {
	// HTTPClient supplies the transport and timeout; it is copied, so its
	// redirect policy can be turned off without touching the caller's. Nil
	// means a default transport.
	HTTPClient *http.Client
	Token      TokenFunc    // sets Authorization on every attempt
	Logger     *slog.Logger // nil logs nothing
	Attempts   int          // attempts in all, at least 1
	MinWait    time.Duration
	MaxWait    time.Duration
	// StallTimeout cuts an attempt that sends and receives nothing for
	// this long; 0 never cuts. See RoundTripper.StallTimeout.
	StallTimeout time.Duration
	// Limiter paces every attempt; nil does not.
	Limiter *Limiter
}

// Client sends calls through the retry policy. It owns the go-retryablehttp
// client, so nothing outside this package reaches into the library's
// fields.
type Client struct {
	retry *retryablehttp.Client
}

// New builds a Client from cfg.
func New(cfg Config) *Client {
	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	}
	next := hc.Transport
	if next == nil {
		next = defaultTransport()
	}
	hc.Transport = &RoundTripper{Next: next, Token: cfg.Token, Logger: cfg.Logger, StallTimeout: cfg.StallTimeout, Limiter: cfg.Limiter}
	// A redirect would carry the Authorization header and, for a 307, the
	// body with personal data to a place we did not choose.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	// Built as a literal: retryablehttp.NewClient would add a logger that
	// writes every request's URL to stderr.
	return &Client{retry: &retryablehttp.Client{
		HTTPClient:   &hc,
		RetryMax:     max(cfg.Attempts, 1) - 1,
		RetryWaitMin: cfg.MinWait,
		RetryWaitMax: cfg.MaxWait,
		CheckRetry:   CheckRetry,
		Backoff:      Backoff,
		ErrorHandler: KeepResponse,
	}}
}

// IdleConnsPerHost is how many idle connections the default transport
// keeps to Visengine. net/http keeps 2 per host, a figure made for clients
// of many hosts; an SDK client talks to one, from a backend that may have a
// few hundred calls in flight (workers, queue consumers, Wait loops). With
// 2, every call beyond the second in flight opens a connection (TCP and TLS
// handshakes: round trips and CPU on both ends) and closes it after use:
// from 16 to 256 concurrent submissions throughput fell instead of rising
// (BenchmarkSubmit). 256 idle connections cover a busy backend's
// concurrency; idle ones close after IdleConnTimeout (90 s), so a quiet
// client holds none. WithHTTPClient replaces the whole transport.
const IdleConnsPerHost = 256

func defaultTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = IdleConnsPerHost, IdleConnsPerHost
	t.ResponseHeaderTimeout = 2 * time.Minute
	return t
}

// Do sends call to url with header and body (nil for none) through the
// retry policy. The answer, whatever its status, is returned with a nil
// error; an error means no answer was read, and call then says whether the
// request may have reached the server.
func (c *Client) Do(ctx context.Context, call *Call, url string, header http.Header, body []byte) (*http.Response, error) {
	var raw any
	if body != nil {
		raw = body
	}
	req, err := retryablehttp.NewRequestWithContext(WithCall(ctx, call), call.Method, url, raw)
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return c.retry.Do(req)
}

// SettleDelay is how long to wait before reading back the state after a
// call whose outcome is unknown: the shortest wait between retries, so a
// client configured for fast retries (tests) also settles fast.
func (c *Client) SettleDelay() time.Duration { return c.retry.RetryWaitMin }

// CloseIdleConnections closes the idle connections of the underlying
// transport.
func (c *Client) CloseIdleConnections() { c.retry.HTTPClient.CloseIdleConnections() }

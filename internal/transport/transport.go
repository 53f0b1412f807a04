// Package transport sends the client's requests: it owns the
// go-retryablehttp client and its retry policy, sets the Authorization
// header from a token provider, and keeps the per-attempt bookkeeping the
// policy needs (which attempt this is, and whether the request may have
// left the process). It is internal so that the policy can be tested on its
// own and the public package stays small.
package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync/atomic"
	"time"
)

// IsIdempotent reports whether a call with method may be sent again after it
// may have reached the server: GET and HEAD. POST and PUT may not, because a
// resent POST /richiesta (or closing PUT) can charge twice.
func IsIdempotent(method string) bool {
	return method == http.MethodGet || method == http.MethodHead
}

// Call is the state of one logical call across its attempts.
type Call struct {
	Method string // HTTP method
	Path   string // the endpoint's path, relative to the base URL ("/richiesta/{id}")
	// Idempotent says whether the call may be resent after it left the
	// process; see IsIdempotent.
	Idempotent bool

	attempts  atomic.Int32
	unsent    atomic.Bool  // the last attempt provably never left the process
	maybeSent atomic.Bool  // some attempt may have reached the server
	sentAt    atomic.Int64 // unix nanoseconds when that attempt started
	// token is the bearer token the last attempt carried, so that a 401
	// can name the token to renew. Kept here, never printed: Call has no
	// String and no error or log line reads this field.
	token atomic.Pointer[string]
}

// NewCall starts the bookkeeping of one call of method to path.
func NewCall(method, path string) *Call {
	return &Call{Method: method, Path: path, Idempotent: IsIdempotent(method)}
}

// Attempts reports how many attempts reached the transport.
func (c *Call) Attempts() int { return int(c.attempts.Load()) }

// MaybeSent reports whether some attempt may have reached the server: it
// got an answer, wrote its headers, or failed in a way that does not prove
// otherwise.
func (c *Call) MaybeSent() bool { return c.maybeSent.Load() }

// SentAt is when the first attempt that may have reached the server started.
func (c *Call) SentAt() time.Time {
	ns := c.sentAt.Load()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// SentToken returns the bearer token the last attempt carried, or "" when
// no attempt carried one.
func (c *Call) SentToken() string {
	if p := c.token.Load(); p != nil {
		return *p
	}
	return ""
}

// Refused records that the server answered the last attempt in a way
// that proves it did not apply the call (a 401: the request was not
// authenticated, so nothing was done), before the call is sent again
// with a new token. What came before then counts as not sent: an
// unknown outcome of the next attempt is that attempt's own.
func (c *Call) Refused() {
	c.maybeSent.Store(false)
	c.sentAt.Store(0)
	c.unsent.Store(false)
}

// attemptTrace watches one attempt through httptrace.
type attemptTrace struct {
	live  atomic.Bool // the transport drives httptrace (GetConn fired)
	wrote atomic.Bool // the request's headers were written
}

func (a *attemptTrace) clientTrace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GetConn:      func(string) { a.live.Store(true) },
		WroteHeaders: func() { a.wrote.Store(true) },
	}
}

// attemptClientTrace is one ClientTrace for the attempt's bookkeeping (a)
// and its watchdog (w), either of which may be nil. Built by hand because
// httptrace composes two traces through reflection, a cost on every call.
func attemptClientTrace(a *attemptTrace, w *watchdog) *httptrace.ClientTrace {
	switch {
	case w == nil:
		return a.clientTrace()
	case a == nil:
		return w.trace()
	}
	t := w.trace()
	t.GetConn = func(string) { a.live.Store(true) }
	t.WroteHeaders = func() { a.wrote.Store(true); w.progress() }
	return t
}

// provablyUnsent decides, after a failed attempt, whether the request
// certainly never left the process. It is one half of the rule; the other
// is in RoundTripper.RoundTrip, which never hands an attempt to the next
// transport when its context has already ended or no token can be had
// (those attempts are unsent by construction). Here, with a transport that
// drives httptrace, the headers not being written proves it; with one that
// does not (a custom RoundTripper, a mock) only a dial or DNS failure does.
// Anything else counts as maybe sent, so a POST is never resent on a guess.
func (a *attemptTrace) provablyUnsent(err error) bool {
	if a.live.Load() {
		return !a.wrote.Load()
	}
	var dns *net.DNSError
	var op *net.OpError
	return errors.As(err, &dns) || errors.As(err, &op) && op.Op == "dial"
}

// finish records the attempt's outcome on the call.
func (c *Call) finish(a *attemptTrace, start time.Time, err error) {
	unsent := err != nil && a.provablyUnsent(err)
	c.unsent.Store(unsent)
	if !unsent {
		c.maybeSent.Store(true)
		c.sentAt.CompareAndSwap(0, start.UnixNano())
	}
}

// notSent records an attempt that was stopped before the next transport saw
// it. It is safe on a nil Call.
func (c *Call) notSent() {
	if c != nil {
		c.unsent.Store(true)
	}
}

type callKey struct{}

// WithCall attaches c to ctx so the transport and the retry policy can see it.
func WithCall(ctx context.Context, c *Call) context.Context {
	return context.WithValue(ctx, callKey{}, c)
}

// CallFrom returns the call attached to ctx, or nil.
func CallFrom(ctx context.Context) *Call {
	c, _ := ctx.Value(callKey{}).(*Call)
	return c
}

// RoundTripper sets the Authorization header from Token, counts attempts,
// watches whether headers were written (via httptrace) and, when Logger is
// set, logs one line per attempt: method, path, status, attempt and
// duration — never the URL's query, a header or a body.
type RoundTripper struct {
	Next   http.RoundTripper
	Token  TokenFunc // nil sends no Authorization header
	Logger *slog.Logger
	// StallTimeout cuts an attempt after this long without a byte sent or
	// received (see StallError); 0 never cuts.
	StallTimeout time.Duration
	// Limiter, when set, paces every attempt: each waits for a token
	// before it is handed to Next (an attempt whose context ends while
	// waiting was provably never sent).
	Limiter *Limiter
}

// RoundTrip implements http.RoundTripper. An attempt whose context has
// already ended, or for which Token fails, is not handed to Next at all: it
// provably never left the process, which is what lets a cancelled POST
// report a plain context error instead of an unknown outcome.
func (t *RoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	call := CallFrom(req.Context())
	token, err := t.precheck(req)
	if err != nil {
		if req.Body != nil {
			_ = req.Body.Close() // RoundTrip must close the body, even on errors
		}
		call.notSent()
		return nil, err
	}
	attempt := 0
	var trace attemptTrace
	var watched *attemptTrace
	ctx := req.Context()
	if call != nil {
		attempt = int(call.attempts.Add(1))
		call.token.Store(&token)
		watched = &trace
	}
	var wd *watchdog
	if t.StallTimeout > 0 {
		ctx, wd = startWatchdog(ctx, t.StallTimeout)
	}
	if watched != nil || wd != nil {
		ctx = httptrace.WithClientTrace(ctx, attemptClientTrace(watched, wd))
	}
	req = t.prepare(ctx, req, call, token)
	if wd != nil {
		wd.requestBody(req)
	}
	start := time.Now()
	resp, err := t.Next.RoundTrip(req)
	if wd != nil {
		resp, err = wd.result(resp, err)
	}
	if call != nil {
		call.finish(&trace, start, err)
	}
	if t.Logger != nil {
		t.log(req, call, attempt, resp, err, time.Since(start))
	}
	return resp, err
}

// precheck returns the attempt's token, or why the attempt must not start.
func (t *RoundTripper) precheck(req *http.Request) (string, error) {
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if t.Limiter != nil {
		if err := t.Limiter.Wait(ctx); err != nil {
			return "", err
		}
	}
	if t.Token == nil {
		return "", nil
	}
	token, err := t.Token(ctx)
	if err == nil {
		err = CheckToken(token)
	}
	if err != nil {
		return "", &tokenError{err: err}
	}
	return token, nil
}

// prepare copies req (a RoundTripper must not modify the caller's request)
// with ctx, the token, and for a non-idempotent call no GetBody.
func (t *RoundTripper) prepare(ctx context.Context, req *http.Request, call *Call, token string) *http.Request {
	req = req.Clone(ctx)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if call != nil && !call.Idempotent {
		// Without GetBody net/http cannot replay the body itself: its
		// HTTP/2 code would otherwise resend a POST that fully reached
		// the server after a RST_STREAM, inside one RoundTrip, unseen.
		req.GetBody = nil
	}
	return req
}

// log writes one line for an attempt. The path is the endpoint's, as in
// errors ("/visure"), not the URL's, which includes the base URL's path.
func (t *RoundTripper) log(req *http.Request, call *Call, attempt int, resp *http.Response, err error, d time.Duration) {
	path := req.URL.Path
	if call != nil && call.Path != "" {
		path = call.Path
	}
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("path", path),
		slog.Int("attempt", attempt),
		slog.Duration("duration", d),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", errorClass(err)))
		t.Logger.LogAttrs(req.Context(), slog.LevelWarn, "visengine request failed", attrs...)
		return
	}
	attrs = append(attrs, slog.Int("status", resp.StatusCode))
	t.Logger.LogAttrs(req.Context(), slog.LevelInfo, "visengine request", attrs...)
}

// errorClass names a transport failure without its text, which for some
// errors embeds addresses or, from custom transports, anything at all.
func errorClass(err error) string {
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline exceeded"
	case errors.Is(err, ErrStalled):
		return "stalled"
	default:
		return "transport error"
	}
}

// CheckRetry is the retry policy for go-retryablehttp. An idempotent call is
// retried on transport errors (but not certificate failures), 429 and 5xx
// other than 501. A non-idempotent call is retried only when its last
// attempt provably never left the process (see provablyUnsent).
func CheckRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	call := CallFrom(ctx)
	idempotent := call == nil || call.Idempotent
	if err != nil {
		if isPermanent(err) {
			return false, nil
		}
		if idempotent {
			return true, nil
		}
		return call.unsent.Load(), nil
	}
	if !idempotent {
		return false, nil
	}
	return RetryableStatus(resp.StatusCode), nil
}

// RetryableStatus says whether an idempotent call answered with code is worth
// another attempt.
func RetryableStatus(code int) bool {
	return code == http.StatusTooManyRequests ||
		(code >= 500 && code != http.StatusNotImplemented)
}

// isPermanent says whether a transport error will come back on the next
// attempt: a certificate the client refuses, or no token to send.
func isPermanent(err error) bool {
	var token *tokenError
	if errors.As(err, &token) {
		return true
	}
	var unknownAuth x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	return errors.As(err, &unknownAuth) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || errors.As(err, &verify)
}

// Backoff waits min·2^attempt with jitter, capped at max; a Retry-After on
// 429 or 503 is honoured but never beyond max, so a server cannot park the
// caller for an hour.
func Backoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := RetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return clamp(d, 0, max)
		}
	}
	return Jittered(min, max, attempt)
}

// Jittered returns an exponential delay for attempt (0-based) between min
// and max, drawn from its upper half so retries from many clients spread out.
func Jittered(min, max time.Duration, attempt int) time.Duration {
	if max < min {
		max = min
	}
	d := min
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	d = clamp(d, min, max)
	if half := d / 2; half > 0 {
		d = half + rand.N(half+1)
	}
	return clamp(d, min, max)
}

// RetryAfter parses a Retry-After value: delay seconds or an HTTP date.
func RetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		if s > int64(24*time.Hour/time.Second) {
			s = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func clamp(d, lo, hi time.Duration) time.Duration {
	return min(max(d, lo), hi)
}

// KeepResponse is an ErrorHandler that returns the last response when
// retries give up, so its status and body still become a typed error.
func KeepResponse(resp *http.Response, err error, _ int) (*http.Response, error) {
	if resp != nil {
		return resp, nil
	}
	return nil, err
}

// CloseIdleConnections forwards to the wrapped transport, so that
// http.Client.CloseIdleConnections keeps working through the wrapper.
func (t *RoundTripper) CloseIdleConnections() {
	if c, ok := t.Next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

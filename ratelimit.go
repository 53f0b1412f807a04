package visengine

import (
	"context"
	"errors"
	"math"
	"net/http"
	"time"

	"github.com/visengine-go/visengine/internal/transport"
)

// Rate-limit handling of Submit, Resume and Recover (see WithRateLimitRetry).
const (
	// DefaultRateLimitRetries is how many times a step refused with 429
	// is sent again.
	DefaultRateLimitRetries = 5
	// DefaultRateLimitMaxWait caps the wait before each of them, whatever
	// the server's Retry-After asks.
	DefaultRateLimitMaxWait = time.Minute
)

// WithRateLimit paces every request of the Client, from all its
// goroutines together, to perSecond on average with bursts of up to burst:
// a token bucket that each attempt (retries included) takes a token from,
// waiting for one, within its context, when none is left. Use it to stay
// under the account's rate limit instead of meeting it as 429s.
func WithRateLimit(perSecond float64, burst int) Option {
	return func(c *config) error {
		if !(perSecond > 0) || math.IsInf(perSecond, 0) || burst < 1 {
			return invalidArg("WithRateLimit", "needs perSecond above zero and burst of at least 1")
		}
		c.limiter = transport.NewLimiter(perSecond, burst)
		return nil
	}
}

// WithRateLimitRetry sets how Submit, Resume and Recover answer a step
// refused with 429 Too Many Requests. A 429 is a refusal: nothing was
// created or charged, so the step — the draft's POST or the closing PUT —
// is sent again, up to retries times (default DefaultRateLimitRetries; 0
// never), after the server's Retry-After (APIError.RetryAfter), or a
// backoff when it gives none, each wait capped at maxWait (default
// DefaultRateLimitMaxWait) and ended early by the context. Until the
// retries run out a 429 is neither an error of Submit nor a journal
// outcome; after, it is the step's refusal, as any other (a
// *SubmitError whose Err is the *APIError). Reads (GET) follow WithRetry.
func WithRateLimitRetry(retries int, maxWait time.Duration) Option {
	return func(c *config) error {
		if retries < 0 || maxWait < 0 {
			return invalidArg("WithRateLimitRetry", "needs retries and maxWait of at least zero")
		}
		c.eo.rlRetries, c.eo.rlMaxWait = retries, maxWait
		return nil
	}
}

// rateLimited reports whether err is a 429 that the step may answer by
// being sent again (retry counts from 0), having waited as the server
// asked. It returns false at once for anything else, when the retries are
// used up, or when ctx ends during the wait.
func (c *Client) rateLimited(ctx context.Context, err error, retry int) bool {
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests || retry >= c.eo.rlRetries {
		return false
	}
	if errors.Is(err, ErrOutcomeUnknown) {
		return false
	}
	wait := apiErr.RetryAfter
	if wait <= 0 {
		wait = transport.Jittered(c.http.SettleDelay(), c.eo.rlMaxWait, retry)
	}
	return sleep(ctx, min(wait, c.eo.rlMaxWait)) == nil
}

// retryAfter reads a 429's or 503's Retry-After for APIError.RetryAfter.
func retryAfter(resp *http.Response) time.Duration {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return 0
	}
	d, _ := transport.RetryAfter(resp.Header.Get("Retry-After"), time.Now())
	return d
}

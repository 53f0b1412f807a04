package visenginetest

import (
	"net/http"
	"strconv"
	"time"

	"github.com/visengine-go/visengine"
)

// WithRateLimit makes the server answer 429 Too Many Requests, with a
// Retry-After header (whole seconds), to every request beyond n in a window
// of per, as the gateway in front of Visengine does: a window opens with
// its first request. It rehearses a client's backoff (and, from a
// terminal, visengine-fake --rate-limit 5/s). n <= 0 or per <= 0: no limit.
// The refused requests are recorded (Requests) but never applied.
func WithRateLimit(n int, per time.Duration) Option {
	return func(c *config) { c.rateN, c.ratePer = n, per }
}

// rateWindow counts the requests of the current window.
type rateWindow struct {
	start time.Time
	count int
}

// rateLimited answers 429 and reports true when r is beyond the limit.
func (s *Server) rateLimited(w http.ResponseWriter) bool {
	n, per := s.cfg.rateN, s.cfg.ratePer
	if n <= 0 || per <= 0 {
		return false
	}
	now := time.Now()
	s.mu.Lock()
	if s.rate.start.IsZero() || now.Sub(s.rate.start) >= per {
		s.rate = rateWindow{start: now}
	}
	s.rate.count++
	over, left := s.rate.count > n, s.rate.start.Add(per).Sub(now)
	s.mu.Unlock()
	if !over {
		return false
	}
	secs := int((left + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	fail(w, http.StatusTooManyRequests, codeRateLimited, "Too Many Requests")
	return true
}

// codeRateLimited is the fake gateway's code for a 429, the status itself.
const codeRateLimited = visengine.Code(http.StatusTooManyRequests)

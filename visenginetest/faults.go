package visenginetest

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"
)

// Fault makes the server misbehave on matching requests, to test a
// client's retries and its handling of uncertain outcomes. The request is
// always recorded (Requests) first. The parts combine in this order: Delay,
// then one of Drop, Status or Truncate.
type Fault struct {
	// Delay waits before answering (or dropping).
	Delay time.Duration
	// Drop closes the connection without an answer, before or after the
	// request was applied.
	Drop Drop
	// Status answers with this HTTP status without applying the request,
	// with Body (default: a Visengine error envelope) and, if set, a
	// Retry-After header.
	Status     int
	RetryAfter string
	Body       []byte
	// Truncate applies the request, then sends only the first Truncate bytes
	// of the answer's body (which declares its full length) and closes the
	// connection.
	Truncate int
	// Times is how many matching requests the fault hits: 0 means once, a
	// negative number every one until ClearFaults.
	Times int
}

// Drop says whether and when a Fault drops the connection.
type Drop int

// Drop modes.
const (
	// NoDrop answers normally.
	NoDrop Drop = iota
	// DropBeforeApply reads the body and closes the connection: nothing
	// changes on the server.
	DropBeforeApply
	// DropAfterApply handles the request (a POST creates and charges) and
	// closes the connection without sending the answer.
	DropAfterApply
)

type faultRule struct {
	method string
	segs   []string
	left   int // negative: unlimited
	f      Fault
}

// Fault installs f for requests whose method is method ("" or "*" for any)
// and whose path matches pattern: segments are compared literally, except
// "*" or "{name}", which match any one segment, and a final "{name...}",
// which matches the rest. Example: Fault("POST", "/richiesta", …),
// Fault("GET", "/richiesta/{id}", …). Faults are tried in the order added.
func (s *Server) Fault(method, pattern string, f Fault) {
	left := f.Times
	if left == 0 {
		left = 1
	}
	rule := &faultRule{method: strings.ToUpper(method), segs: strings.Split(pattern, "/"), left: left, f: f}
	s.mu.Lock()
	s.faults = append(s.faults, rule)
	s.mu.Unlock()
}

// ClearFaults removes every installed fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// takeFault returns the first fault matching r and uses up one of its hits.
func (s *Server) takeFault(r *http.Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, rule := range s.faults {
		if !rule.matches(r.Method, r.URL.Path) {
			continue
		}
		if rule.left > 0 {
			if rule.left--; rule.left == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		f := rule.f
		return &f
	}
	return nil
}

func (rule *faultRule) matches(method, path string) bool {
	if rule.method != "" && rule.method != "*" && rule.method != method {
		return false
	}
	segs := strings.Split(path, "/")
	for i, p := range rule.segs {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "...}") {
			return len(segs) >= i
		}
		if i >= len(segs) {
			return false
		}
		wild := p == "*" || (strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}"))
		if wild && segs[i] == "" || !wild && p != segs[i] {
			return false
		}
	}
	return len(segs) == len(rule.segs)
}

// serveWithFault serves r through next, misbehaving as a matching fault says.
func (s *Server) serveWithFault(w http.ResponseWriter, r *http.Request, next http.Handler) {
	f := s.takeFault(r)
	if f == nil {
		next.ServeHTTP(w, r)
		return
	}
	if f.Delay > 0 {
		s.wait(r.Context(), f.Delay)
	}
	switch {
	case f.Drop == DropBeforeApply:
		panic(http.ErrAbortHandler) // the server closes the connection, silently
	case f.Drop == DropAfterApply:
		next.ServeHTTP(httptest.NewRecorder(), r)
		panic(http.ErrAbortHandler)
	case f.Status != 0:
		writeStatusFault(w, f)
	case f.Truncate > 0:
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		writeTruncated(w, rec, f.Truncate)
	default:
		next.ServeHTTP(w, r)
	}
}

func writeStatusFault(w http.ResponseWriter, f *Fault) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	if f.Body == nil {
		fail(w, f.Status, f.Status, http.StatusText(f.Status))
		return
	}
	ctype := "application/json"
	if b := strings.TrimSpace(string(f.Body)); !strings.HasPrefix(b, "{") && !strings.HasPrefix(b, "[") {
		ctype = "text/html; charset=utf-8"
	}
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(f.Status)
	_, _ = w.Write(f.Body)
}

// writeTruncated sends rec's answer cut to n bytes (at most all but one)
// under a Content-Length that promises all of it, then drops the
// connection.
func writeTruncated(w http.ResponseWriter, rec *httptest.ResponseRecorder, n int) {
	body := rec.Body.Bytes()
	n = min(n, max(len(body)-1, 0))
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body[:n])
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	panic(http.ErrAbortHandler)
}

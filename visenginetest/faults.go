package visenginetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/visengine-go/visengine"
)

// Fault makes the server misbehave on matching requests, to test a
// client's retries and its handling of uncertain outcomes. The request is
// always recorded (Requests) first. The parts combine in this order: Delay,
// then one of Drop, Status or Truncate.
//
// A gateway in front of the real service fails both ways: it may answer an
// error for a call the backend never saw (Status alone, DropBeforeApply), or
// for one the backend did apply, at once or a little later (Apply,
// ApplyAfter, DropAfterApply, Truncate), and a read right after may still
// come from a replica that has not caught up (StaleReads). A client must
// stay correct in all of them: charge at most once, and never trust an
// error from a non-idempotent call to mean "nothing happened".
//
// Server.Fault panics on a combination that cannot happen (see Apply,
// ApplyAfter and StaleReads), as a test's setup mistake.
type Fault struct {
	// Delay waits before answering (or dropping).
	Delay time.Duration
	// Drop closes the connection without an answer, before or after the
	// request was applied.
	Drop Drop
	// Status answers with this HTTP status without applying the request
	// (unless Apply or ApplyAfter says otherwise), with Body and, if set, a
	// Retry-After header. Body defaults to a Visengine error envelope, or,
	// when the request is applied, to a gateway's HTML page: the backend's
	// answer was lost, and a proxy answered instead.
	Status     int
	RetryAfter string
	Body       []byte
	// Apply, with Status, applies the request (a POST creates, a closing PUT
	// charges) before answering Status: the gateway timed out or failed,
	// but the backend did the work. It needs Status; DropAfterApply and
	// Truncate apply the request already.
	Apply bool
	// ApplyAfter applies the request only this long after it arrived (after
	// Delay), in the background, while the answer (Status, or
	// Drop: DropAfterApply) goes out at once: the backend commits after the
	// gateway has given up. Whatever observes the server after that time
	// (a request, Charges, Stato…) sees it applied, even when a loaded
	// machine runs the background late. A pending apply is counted as
	// background work, so Close stops it (it then never happens) and waits
	// for it; it is never left running. It needs Status or DropAfterApply,
	// since the answer cannot carry a result that does not exist yet.
	ApplyAfter time.Duration
	// StaleReads makes the next StaleReads GET /richiesta/{id} of the
	// richiesta named in the faulted request's path answer with that
	// richiesta as it was just before the request was applied, as a
	// lagging read replica would: a client reading back after an unknown
	// outcome sees "still open" although the close went through. The count
	// starts when the request is applied (with ApplyAfter, reads before
	// then see the old state anyway); nothing is stale if the applied
	// request fails. It needs a fault that applies the request (Apply,
	// ApplyAfter, DropAfterApply, Truncate) and has no effect on a request
	// that names no richiesta (POST /richiesta).
	StaleReads int
	// Truncate applies the request, then sends only the first Truncate bytes
	// of the answer's body (which declares its full length) and closes the
	// connection.
	Truncate int
	// Times is how many matching requests the fault hits: 0 means once, a
	// negative number every one until ClearFaults.
	Times int
	// Every, above 1, hits only one matching request in Every (the
	// Every-th, the 2·Every-th, …) and lets the others through: a 429 on
	// one call in ten, say, with Times: -1. Only hits count in Times.
	Every int
	// ChargeAgain, with ApplyAfter on a closing PUT, charges the wallet
	// again when the late apply finds the richiesta closed already,
	// instead of refusing it: a backend that commits a queued close
	// without checking the state again. It shows what a second close
	// sent within the commit delay costs.
	ChargeAgain bool
}

// check panics on a Fault that cannot be served as documented.
func (f *Fault) check() {
	bad := func(why string) { panic("visenginetest: Fault: " + why) }
	switch {
	case f.ApplyAfter < 0 || f.StaleReads < 0:
		bad("negative ApplyAfter or StaleReads")
	case (f.Apply || f.ApplyAfter > 0) && f.Drop == DropBeforeApply:
		bad("Apply or ApplyAfter with DropBeforeApply")
	case f.Apply && f.Status == 0:
		bad("Apply needs Status (DropAfterApply and Truncate apply already)")
	case f.ApplyAfter > 0 && f.Status == 0 && f.Drop != DropAfterApply:
		bad("ApplyAfter needs Status or DropAfterApply")
	case f.StaleReads > 0 && !f.applies():
		bad("StaleReads needs a fault that applies the request")
	case f.Every < 0:
		bad("negative Every")
	case f.ChargeAgain && f.ApplyAfter == 0:
		bad("ChargeAgain needs ApplyAfter")
	}
}

// applies reports whether the faulted request is applied, now or later.
func (f *Fault) applies() bool {
	switch {
	case f.Drop == DropBeforeApply:
		return false
	case f.Drop == DropAfterApply || f.Apply || f.ApplyAfter > 0:
		return true
	case f.Status != 0:
		return false
	}
	return true // Truncate, or Delay alone
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
	seen   int // matching requests so far, for Every
	f      Fault
}

// Fault installs f for requests whose method is method ("" or "*" for any)
// and whose path matches pattern: segments are compared literally, except
// "*" or "{name}", which match any one segment, and a final "{name...}",
// which matches the rest. Example: Fault("POST", "/richiesta", …),
// Fault("GET", "/richiesta/{id}", …). Faults are tried in the order added.
func (s *Server) Fault(method, pattern string, f Fault) {
	f.check()
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
		if rule.seen++; rule.f.Every > 1 && rule.seen%rule.f.Every != 0 {
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

// serveWithFault serves r, whose body is body, through next, misbehaving
// as a matching fault says.
func (s *Server) serveWithFault(w http.ResponseWriter, r *http.Request, body []byte, next http.Handler) {
	f := s.takeFault(r)
	if f == nil {
		next.ServeHTTP(w, r)
		return
	}
	if f.Delay > 0 {
		s.wait(r.Context(), f.Delay)
	}
	if f.ApplyAfter > 0 { // check: with Status or DropAfterApply
		s.applyLater(r, body, next, f)
		if f.Drop == DropAfterApply {
			panic(http.ErrAbortHandler)
		}
		writeStatusFault(w, f, true)
		return
	}
	switch {
	case f.Drop == DropBeforeApply:
		panic(http.ErrAbortHandler) // the server closes the connection, silently
	case f.Drop == DropAfterApply:
		s.apply(r, next, f)
		panic(http.ErrAbortHandler)
	case f.Status != 0:
		if f.Apply {
			s.apply(r, next, f)
		}
		writeStatusFault(w, f, f.Apply)
	case f.Truncate > 0:
		writeTruncated(w, s.apply(r, next, f), f.Truncate)
	case f.StaleReads > 0:
		writeRecorded(w, s.apply(r, next, f))
	default:
		next.ServeHTTP(w, r)
	}
}

// apply handles r through next into a recorder, so the request takes
// effect whatever is sent back. With StaleReads, the richiesta named in the
// path is snapshotted first and served stale to the next reads, unless the
// request fails (then nothing changed).
func (s *Server) apply(r *http.Request, next http.Handler, f *Fault) *httptest.ResponseRecorder {
	var view *staleView
	if id := richiestaInPath(r.URL.Path); id != "" && f.StaleReads > 0 {
		view = s.snapshot(id, f.StaleReads)
	}
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	if view != nil && rec.Code/100 != 2 {
		s.mu.Lock()
		if s.stale[view.id] == view {
			delete(s.stale, view.id)
		}
		s.mu.Unlock()
	}
	return rec
}

// applyLater applies r (a copy, with body) once f.ApplyAfter has passed:
// in the background when its timer fires, or before whatever observes the
// server first after that (a request, Charges, Stato…; see applyDue), so
// a loaded machine that runs the timer late never shows a state the
// backend would have left behind. It never happens once the server is
// closed. The timer's goroutine and the apply, whoever runs it, are
// counted in s.bg, so Close waits for them.
func (s *Server) applyLater(r *http.Request, body []byte, next http.Handler, f *Fault) {
	later := r.Clone(s.ctx) // r and its context end with this handler
	later.Body = io.NopCloser(bytes.NewReader(body))
	l := &lateApply{due: time.Now().Add(f.ApplyAfter), run: func() {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
		}
		s.bg.Add(1)
		s.mu.Unlock()
		defer s.bg.Done()
		if s.ctx.Err() == nil && !s.chargeAgain(later, body, f) {
			s.apply(later, next, f)
		}
	}}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.lmu.Lock()
	s.late = insertLate(s.late, l)
	s.lmu.Unlock()
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		t := time.NewTimer(f.ApplyAfter + s.lateSlack)
		defer t.Stop()
		select {
		case <-t.C:
			s.applyDue()
		case <-s.ctx.Done():
		}
	}()
}

// lateApply is a request that ApplyAfter applies at due.
type lateApply struct {
	due     time.Time
	once    sync.Once
	run     func()
	applied atomic.Bool // run has returned
}

// insertLate inserts l into late, which is in due order (equal dues in
// the order they came): whatever is due is then at its front, and every
// request finds it without reading the rest.
func insertLate(late []*lateApply, l *lateApply) []*lateApply {
	i, _ := slices.BinarySearchFunc(late, l.due, func(x *lateApply, due time.Time) int {
		if x.due.After(due) {
			return 1
		}
		return -1 // after those due at the same time
	})
	return slices.Insert(late, i, l)
}

// applyDue applies the requests whose ApplyAfter has passed, in the order
// they fall due. A caller that finds one being applied by another waits
// for it (sync.Once), so what it observes next includes it; each leaves
// the list only once applied.
func (s *Server) applyDue() {
	now := time.Now()
	s.lmu.Lock()
	n := 0
	for n < len(s.late) && !s.late[n].due.After(now) {
		n++
	}
	if n == 0 { // what every request finds, mostly
		s.lmu.Unlock()
		return
	}
	due := slices.Clone(s.late[:n])
	s.lmu.Unlock()
	for _, l := range due {
		l.once.Do(func() {
			defer l.applied.Store(true)
			l.run()
		})
	}
	s.lmu.Lock()
	for len(s.late) > 0 && s.late[0].applied.Load() {
		s.late[0] = nil
		s.late = s.late[1:]
	}
	s.lmu.Unlock()
}

// chargeAgain applies a ChargeAgain fault's close of a richiesta closed
// already: one more charge, as a backend that does not check again. It
// reports whether it did.
func (s *Server) chargeAgain(r *http.Request, body []byte, f *Fault) bool {
	id := richiestaInPath(r.URL.Path)
	var in struct {
		State json.RawMessage `json:"state"`
	}
	if !f.ChargeAgain || r.Method != http.MethodPut || id == "" || json.Unmarshal(body, &in) != nil ||
		strings.Trim(string(in.State), `" `) != "1" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rq := s.richieste[id]
	if rq == nil || rq.state != 1 {
		return false
	}
	s.chargeLocked(rq.id, "visura", rq.price())
	return true
}

// staleView is what a lagging replica still shows of one richiesta.
type staleView struct {
	id   string
	left int             // reads still to serve stale
	data json.RawMessage // the richiesta's wire form; nil: it did not exist
}

// snapshot installs a stale view of id as it is now, for the next n reads.
func (s *Server) snapshot(id string, n int) *staleView {
	s.mu.Lock()
	defer s.mu.Unlock()
	view := &staleView{id: id, left: n}
	if rq := s.richieste[id]; rq != nil {
		b, err := marshal(rq.wire(s.cfg.owner))
		if err != nil {
			return nil
		}
		view.data = b
	}
	if s.stale == nil {
		s.stale = map[string]*staleView{}
	}
	s.stale[id] = view
	return view
}

// staleReadLocked uses up one stale read of id, if one is pending.
func (s *Server) staleReadLocked(id string) (*staleView, bool) {
	view := s.stale[id]
	if view == nil {
		return nil, false
	}
	if view.left--; view.left <= 0 {
		delete(s.stale, id)
	}
	return view, true
}

// richiestaInPath returns the id in /richiesta/{id}[/...], or "".
func richiestaInPath(path string) string {
	segs := strings.Split(path, "/")
	if len(segs) >= 3 && segs[0] == "" && segs[1] == "richiesta" {
		return segs[2]
	}
	return ""
}

// gatewayPage is what a proxy in front of the backend sends on its own
// errors: HTML, not a Visengine envelope.
const gatewayPage = "<html>\r\n<head><title>%[1]d %[2]s</title></head>\r\n<body>\r\n" +
	"<center><h1>%[1]d %[2]s</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"

// writeStatusFault answers f.Status. Without f.Body, a request that was
// applied gets a gateway's page (the backend's own answer was lost), one
// that was not gets a Visengine error envelope.
func writeStatusFault(w http.ResponseWriter, f *Fault, applied bool) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	body := f.Body
	if body == nil && applied {
		body = fmt.Appendf(nil, gatewayPage, f.Status, http.StatusText(f.Status))
	}
	if body == nil {
		fail(w, f.Status, visengine.Code(f.Status), http.StatusText(f.Status)) // no documented code: the status stands in
		return
	}
	ctype := "application/json"
	if b := strings.TrimSpace(string(body)); !strings.HasPrefix(b, "{") && !strings.HasPrefix(b, "[") {
		ctype = "text/html; charset=utf-8"
	}
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(f.Status)
	_, _ = w.Write(body)
}

// writeRecorded sends rec's answer as it is.
func writeRecorded(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
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

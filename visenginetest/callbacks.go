package visenginetest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Callbacks: when a search has results and when the document is ready
// ("Dati disponibili"), the server posts {"data": <richiesta>} to the
// richiesta's callback_data.url. With "method": "JSON" the body is that JSON
// (application/json); with "POST", the server's default, it is a form
// (application/x-www-form-urlencoded) whose field named by "field" (default
// "data") holds the same JSON text. Failed deliveries (no answer or a non-2xx
// status) are retried; see WithCallbackRetry.
//
// Only loopback URLs are called, so tests never reach the network; a
// delivery to another host is recorded as refused.

// CallbackDelivery is one attempt to deliver a callback.
type CallbackDelivery struct {
	RichiestaID string
	URL         string
	Method      string // "JSON" or "POST", as delivered
	Attempt     int    // 1 for the first
	Status      int    // the receiver's HTTP status; 0 without an answer
	Err         string // why there was no answer, or why the URL was refused
	Time        time.Time
}

// delivery is one callback to send.
type delivery struct {
	id, url, method, field string
	payload                []byte
}

func newCallbackClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil // loopback only, never through a proxy
	return &http.Client{
		Transport:     t,
		Timeout:       5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// notifyLocked sends rq's callback, if it has one, in the background.
func (s *Server) notifyLocked(rq *richiesta) {
	d, found := s.deliveryFor(rq)
	if !found || s.closed {
		return
	}
	if !loopbackURL(d.url) {
		s.callbacks = append(s.callbacks, CallbackDelivery{RichiestaID: d.id, URL: d.url, Method: d.method,
			Err: "refused: visenginetest only calls loopback URLs", Time: time.Now()})
		return
	}
	s.bg.Add(1)
	go s.deliver(d)
}

func (s *Server) deliveryFor(rq *richiesta) (delivery, bool) {
	var cd struct {
		URL    json.RawMessage `json:"url"`
		Method json.RawMessage `json:"method"`
		Field  json.RawMessage `json:"field"`
	}
	if rq.callbackData == nil || json.Unmarshal(rq.callbackData, &cd) != nil {
		return delivery{}, false
	}
	u, _ := scalarText(cd.URL)
	method, _ := scalarText(cd.Method)
	field, _ := scalarText(cd.Field)
	if strings.TrimSpace(u) == "" {
		return delivery{}, false
	}
	method = strings.ToUpper(strings.TrimSpace(method))
	if method != "JSON" {
		method = "POST"
	}
	if field == "" {
		field = "data"
	}
	payload, _ := marshal(struct {
		Data wireRichiesta `json:"data"`
	}{rq.wire(s.cfg.owner)})
	return delivery{id: rq.id, url: strings.TrimSpace(u), method: method, field: field, payload: payload}, true
}

func loopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// deliver tries d until it is accepted, the attempts run out or the server
// closes.
func (s *Server) deliver(d delivery) {
	defer s.bg.Done()
	wait := s.cfg.cbBackoff
	for attempt := 1; ; attempt++ {
		status, err := s.post(d)
		rec := CallbackDelivery{RichiestaID: d.id, URL: d.url, Method: d.method, Attempt: attempt, Status: status, Time: time.Now()}
		if err != nil {
			rec.Err = err.Error()
		}
		s.mu.Lock()
		s.callbacks = append(s.callbacks, rec)
		s.mu.Unlock()
		if (err == nil && status/100 == 2) || attempt >= s.cfg.cbAttempts {
			return
		}
		s.wait(context.Background(), wait)
		if s.ctx.Err() != nil {
			return
		}
		wait *= 2
	}
}

func (s *Server) post(d delivery) (int, error) {
	body, ctype := d.payload, "application/json"
	if d.method == "POST" {
		body, ctype = []byte(url.Values{d.field: {string(d.payload)}}.Encode()), "application/x-www-form-urlencoded"
	}
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, d.url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("User-Agent", "visenginetest-callback")
	resp, err := s.cbc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, nil
}

// Callbacks returns the callback attempts made so far, oldest first.
func (s *Server) Callbacks() []CallbackDelivery {
	s.applyDue()
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.callbacks)
}

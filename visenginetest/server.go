// Package visenginetest is a fake Visengine 2.0 server for tests, in the
// manner of net/http/httptest: it runs in process on a loopback address and
// speaks the wire format of the real service (envelope, status codes, error
// codes and messages), so code written against visengine.Client, or against
// raw HTTP, can be tested without a token or a wallet.
//
// The fake holds the vendor's 92-service catalogue, validates requests with
// each service's real validazione rule, charges a wallet, moves richieste
// through their states (on a timer with WithAutoAdvance, or by hand with
// Advance, Complete and Cancel), runs the search step of the "con Ricerca"
// services, delivers callbacks, and serves the finished document as a zip
// holding a small PDF. Tests can read what it received (Requests), what it
// charged (Charges), what it called back (Callbacks), and make it misbehave
// (Fault).
//
// It also serves Openapi's OAuth service under /oauth, for the account
// Email with APIKey (HTTP Basic auth), so that package oauth and its
// TokenSource can be tested end to end:
//
//	OAuthURL   = URL + "/oauth/v2": POST/GET /tokens, GET/PATCH/DELETE /tokens/{token}, GET /scopes, GET /wallet, GET /wallet/transactions
//	OAuthV1URL = URL + "/oauth/v1": POST/GET /token, GET/PUT/PATCH/DELETE /token/{token}, GET /scopes, GET /credit
//
// with the specs' envelopes, status and error codes, and token expiry
// (on WithTokenClock's clock). Its wallet is the one Visengine charges.
// The tokens it issues are accepted by the fake's Visengine until they
// expire or are revoked (401 after that), for the calls their scopes
// cover: "METHOD:visengine2.altravia.com/first-segment", or the host
// WithScopeHost sets. A call outside them is answered 403,
//
//	{"success":false,"message":"Forbidden: the token lacks the scope POST:visengine2.altravia.com/richiesta","error":403,"data":null}
//
// Openapi does not document what its gateway answers then; 403 is HTTP's
// "authenticated, not allowed", and unlike a 401 it does not invite a
// client to renew its token, which would come back with the same scopes.
// The server's own Token needs none of this and may call everything.
package visenginetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/internal/oauthfake"
	"github.com/visengine-go/visengine/internal/transport"
)

// maxBody caps a request body; A2 requests carry scanned documents inline.
const maxBody = 64 << 20

// maxOAuthBody caps a request body to the OAuth service: a token request
// is a few hundred bytes.
const maxOAuthBody = 1 << 20

// Server is a fake Visengine server listening on a loopback address.
type Server struct {
	// URL is the base URL, "http://127.0.0.1:port", set by Start.
	URL string
	// Token is the bearer token the server accepts: random per server,
	// unless set with WithToken.
	Token string
	// Listener may be replaced before Start, as with httptest.Server.
	Listener net.Listener
	// OAuthURL is the base URL of the fake's OAuth v2 service,
	// URL+"/oauth/v2" (for oauth.WithBaseURL), and OAuthV1URL that of
	// OAuth v1, URL+"/oauth/v1" (with oauth.WithV1); both set by Start.
	// The tokens they issue are accepted here within their scopes; see
	// the package doc.
	OAuthURL, OAuthV1URL string
	// Email and APIKey are the Openapi account's credentials the OAuth
	// service accepts: the e-mail WithOwner sets (test@example.com if
	// that one cannot go in HTTP Basic auth: empty, or with ':'), and a
	// random key unless WithAPIKey fixes one.
	Email, APIKey string

	ts     *httptest.Server
	oauth  *oauthfake.Server
	cfg    config
	cat    *catalogue
	cbc    *http.Client    // callback deliveries
	ctx    context.Context // cancelled by Close: stops waits and callbacks
	cancel context.CancelFunc
	bg     sync.WaitGroup
	close  sync.Once

	lmu       sync.Mutex    // guards late; never held while applying
	late      []*lateApply  // Fault.ApplyAfter's requests not yet applied
	lateSlack time.Duration // tests: how late the ApplyAfter timer fires

	mu        sync.Mutex
	closed    bool
	richieste map[string]*richiesta
	order     []*richiesta // creation order
	wallet    visengine.Price
	charges   []Charge
	ledger    []LedgerEntry // the wallet's movements, oldest first (OAuth's GET /wallet/transactions)
	requests  []Request
	faults    []*faultRule
	stale     map[string]*staleView // by richiesta id, see Fault.StaleReads
	callbacks []CallbackDelivery
	rate      rateWindow // WithRateLimit
}

// config holds what the options set.
type config struct {
	wallet     visengine.Price
	step       time.Duration
	token      string
	owner      string
	cbAttempts int
	cbBackoff  time.Duration
	apiKey     string           // WithAPIKey
	tokenClock func() time.Time // WithTokenClock
	scopeHost  string           // WithScopeHost
	draftShape DraftShape
	rateN      int           // WithRateLimit
	ratePer    time.Duration // WithRateLimit
}

// Option configures a Server.
type Option func(*config)

// WithWallet sets the wallet's starting balance. Default: €1000.
func WithWallet(balance visengine.Price) Option {
	return func(c *config) { c.wallet = balance }
}

// WithAutoAdvance makes every started richiesta move on by one state each
// step (In erogazione → Dati disponibili → Visura evasa) without being told.
// Default: 0, the states change only through Advance, Complete and Cancel.
// Search richieste still wait in "In ricerca" for a choice.
func WithAutoAdvance(step time.Duration) Option {
	return func(c *config) { c.step = step }
}

// WithToken fixes the accepted bearer token instead of a random one.
func WithToken(token string) Option {
	return func(c *config) { c.token = token }
}

// WithOwner sets the account e-mail shown as "owner", which is also the
// e-mail the OAuth service accepts (Server.Email). Default:
// "test@example.com".
func WithOwner(email string) Option {
	return func(c *config) { c.owner = email }
}

// WithCallbackRetry sets how many times a callback is attempted in all and
// the wait before the second attempt, doubled for each further one.
// Default: 3 attempts, 20ms.
func WithCallbackRetry(attempts int, backoff time.Duration) Option {
	return func(c *config) { c.cbAttempts, c.cbBackoff = max(attempts, 1), max(backoff, 0) }
}

// NewServer starts a fake server on a loopback address. Close it when done.
func NewServer(opts ...Option) *Server {
	s := NewUnstartedServer(opts...)
	s.Start()
	return s
}

// NewUnstartedServer returns a server that listens (so Listener can be
// swapped) but does not serve until Start.
func NewUnstartedServer(opts ...Option) *Server {
	cfg := config{wallet: visengine.Euros(1000), owner: defaultEmail, cbAttempts: 3, cbBackoff: 20 * time.Millisecond}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.token == "" {
		cfg.token = newObjectID()
	}
	s := &Server{
		Token:     cfg.token,
		cfg:       cfg,
		cat:       mustCatalogue(),
		richieste: map[string]*richiesta{},
		wallet:    cfg.wallet,
		cbc:       newCallbackClient(),
	}
	if cfg.wallet.Sign() > 0 {
		s.ledger = []LedgerEntry{s.newLedgerEntry(cfg.wallet, DescriptionRecharge, time.Now())}
	}
	s.oauth, s.Email = s.newOAuth()
	s.APIKey = s.cfg.apiKey
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.ts = httptest.NewUnstartedServer(s.handler())
	s.Listener = s.ts.Listener
	return s
}

// Start starts serving; it sets URL.
func (s *Server) Start() {
	if s.Listener != s.ts.Listener {
		_ = s.ts.Listener.Close()
		s.ts.Listener = s.Listener
	}
	s.ts.Start()
	// Client's transport keeps as many idle connections as the SDK's own
	// default transport: httptest's keeps net/http's 2 per host, so that
	// a test with more calls in flight dials and closes a connection per
	// call, which the SDK against Visengine does not.
	if t, ok := s.ts.Client().Transport.(*http.Transport); ok {
		t.MaxIdleConns, t.MaxIdleConnsPerHost = transport.IdleConnsPerHost, transport.IdleConnsPerHost
	}
	s.URL = s.ts.URL
	s.OAuthURL, s.OAuthV1URL = s.URL+oauthPrefix+"/v2", s.URL+oauthPrefix+"/v1"
}

// Close shuts the server down and waits for what it runs in the background:
// progress timers are stopped and callback deliveries cancelled.
func (s *Server) Close() {
	s.close.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.stopTimersLocked()
		s.mu.Unlock()
		s.cancel()
		s.ts.Close()
		s.bg.Wait()
		s.cbc.CloseIdleConnections()
	})
}

// Client returns a visengine.Client for this server, with fast retries so
// tests with faults stay quick; opts come after those defaults. It panics if
// opts are invalid, as a test's setup mistake.
func (s *Server) Client(opts ...visengine.Option) *visengine.Client {
	base := []visengine.Option{
		visengine.WithBaseURL(s.URL),
		visengine.WithHTTPClient(s.ts.Client()),
		visengine.WithRetry(4, time.Millisecond, 20*time.Millisecond),
	}
	c, err := visengine.NewClient(s.Token, append(base, opts...)...)
	if err != nil {
		panic("visenginetest: Client: " + err.Error())
	}
	return c
}

// handler is the whole server: record the request, apply any fault, check
// the token, route (the OAuth service under /oauth).
func (s *Server) handler() http.Handler {
	mux := s.routes()
	api := s.withOAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.authorize(w, r) {
			return
		}
		if uncleanPath(r.URL.EscapedPath()) {
			unroutable(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer recoverPanic(w)
		s.applyDue()
		limit, ok := s.admit(w, r)
		if !ok {
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
		if err != nil || int64(len(body)) > limit {
			fail(w, http.StatusRequestEntityTooLarge, codeTooLarge, "request body too large or unreadable")
			return
		}
		s.record(r, body)
		if s.rateLimited(w) {
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.serveWithFault(w, r, body, api)
	})
}

// admit decides, before a byte of the body is read, whether to read it and
// how much: a Visengine call must carry a good token first (an
// unauthenticated POST of 64 MiB is answered 401 unread, and recorded
// without its body), and a body announced over the cap is refused unread.
// OAuth calls check their own credentials, on bodies of a few hundred
// bytes: they get a small cap.
func (s *Server) admit(w http.ResponseWriter, r *http.Request) (limit int64, ok bool) {
	limit = maxBody
	if strings.HasPrefix(r.URL.Path, oauthPrefix+"/") {
		limit = maxOAuthBody
	} else if !s.authorize(w, r) {
		s.record(r, nil)
		return 0, false
	}
	if r.ContentLength > limit {
		s.record(r, nil)
		fail(w, http.StatusRequestEntityTooLarge, codeTooLarge, "request body too large")
		return 0, false
	}
	return limit, true
}

// recoverPanic turns a bug into a 500 envelope instead of a dropped
// connection, but lets deliberate aborts (faults) through.
func recoverPanic(w http.ResponseWriter) {
	if v := recover(); v != nil {
		if v == http.ErrAbortHandler {
			panic(v)
		}
		fail(w, http.StatusInternalServerError, codeInternal, "internal error")
	}
}

func (s *Server) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /visure", s.listVisure)
	m.HandleFunc("GET /visure/{hash}", s.getVisura)
	m.HandleFunc("GET /richiesta", s.listRichieste)
	m.HandleFunc("POST /richiesta", s.createRichiesta)
	m.HandleFunc("GET /richiesta/{id}", s.getRichiesta)
	m.HandleFunc("PUT /richiesta/{id}", s.updateRichiesta)
	// Each "{$}" pattern has its twin without the slash, or ServeMux would
	// redirect to it.
	m.HandleFunc("PUT /richiesta/{$}", idRequired(visengine.CodeIDRequired))
	m.HandleFunc("PUT /richiesta", idRequired(visengine.CodeIDRequired))
	m.HandleFunc("POST /richiesta/{id}", s.addRicerca)
	m.HandleFunc("PUT /richiesta/{id}/ricerche", s.chooseRisultato)
	m.HandleFunc("GET /documento/{id}", s.getDocumento)
	m.HandleFunc("GET /documento/{$}", idRequired(visengine.CodeIDRequiredDocumento))
	m.HandleFunc("GET /documento", idRequired(visengine.CodeIDRequiredDocumento))
	m.HandleFunc("/", noRoute)
	return m
}

func noRoute(w http.ResponseWriter, r *http.Request) {
	fail(w, http.StatusNotFound, codeNoRoute, "resource not found: "+r.Method+" "+r.URL.Path)
}

// uncleanPath reports a path that is not absolute or has an empty or dot
// segment (a trailing slash aside), which ServeMux would answer with a
// redirect to its cleaned form. Followed, that redirect changes the call:
// PUT /richiesta//ricerche would become an update of a richiesta with id
// "ricerche".
func uncleanPath(p string) bool {
	if !strings.HasPrefix(p, "/") {
		return true
	}
	segs := strings.Split(p[1:], "/")
	for i, seg := range segs {
		if seg == "." || seg == ".." || seg == "" && i < len(segs)-1 {
			return true
		}
	}
	return false
}

// unroutable answers an unclean path with an envelope, never a redirect:
// an empty id in PUT /richiesta/{id}/ricerche is "id required", as in PUT
// /richiesta/ (the spec documents no such answer for …/ricerche: the fake
// assumes the same one), anything else is not found.
func unroutable(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPut && r.URL.EscapedPath() == "/richiesta//ricerche" {
		idRequired(visengine.CodeIDRequired)(w, r)
		return
	}
	noRoute(w, r)
}

func idRequired(code visengine.Code) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		fail(w, http.StatusPreconditionRequired, code, "id required")
	}
}

// Codes the fake gives where Visengine documents none (its auth, gateway
// and routing errors are not documented): the HTTP status stands in.
const (
	codeUnauthorized = visengine.Code(http.StatusUnauthorized)
	codeNoRoute      = visengine.Code(http.StatusNotFound)
	codeTooLarge     = visengine.Code(http.StatusRequestEntityTooLarge)
	codeInternal     = visengine.Code(http.StatusInternalServerError)
)

// envelope is every answer's shape.
type envelope struct {
	Data    any    `json:"data"`
	Success bool   `json:"success"`
	Message string `json:"message"`
	Error   *int   `json:"error"`
}

func ok(w http.ResponseWriter, data any) { okMessage(w, data, "") }

func okMessage(w http.ResponseWriter, data any, msg string) {
	writeJSON(w, http.StatusOK, envelope{Data: data, Success: true, Message: msg})
}

// fail writes an error envelope, with the "data" key last as in the spec.
func fail(w http.ResponseWriter, status int, code visengine.Code, msg string) {
	writeJSON(w, status, struct {
		Success bool           `json:"success"`
		Message string         `json:"message"`
		Error   visengine.Code `json:"error"`
		Data    any            `json:"data"`
	}{false, msg, code, nil})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"success":false,"message":"internal error","error":500,"data":null}`)
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// marshal encodes like json.Marshal without escaping <, > and &, which PHP's
// json_encode leaves alone too.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// newObjectID returns a 24-hex id shaped like a MongoDB ObjectId: four bytes
// of time, then random bytes.
func newObjectID() string {
	var b [12]byte
	t := uint32(time.Now().Unix())
	b[0], b[1], b[2], b[3] = byte(t>>24), byte(t>>16), byte(t>>8), byte(t)
	_, _ = rand.Read(b[4:])
	return hex.EncodeToString(b[:])
}

// wait sleeps for d unless the request or the server ends first.
func (s *Server) wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	case <-s.ctx.Done():
	}
}

package visengine

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// CallbackEvent is one delivery that carried a known secret, as handed to
// the CallbackFunc.
type CallbackEvent struct {
	// Richiesta is what the delivery is about. With WithCallbackClient it is
	// the richiesta as the API returned it when the handler read it back
	// with the client's own token, not the posted body; without a client
	// it is the posted body, which anyone who has seen one delivery can
	// forge (see CallbackHandler).
	Richiesta *Richiesta
	// FromAPI reports whether Richiesta was read back from the API.
	FromAPI bool

	client *Client
}

// Reread reads the richiesta from the API again (GET /richiesta/{id}), for
// a handler that acts on it later than the delivery. It needs the handler's
// WithCallbackClient.
func (e *CallbackEvent) Reread(ctx context.Context) (*Richiesta, error) {
	if e == nil || e.Richiesta == nil {
		return nil, invalidArg("callback event", "is nil or has no richiesta")
	}
	if e.client == nil {
		return nil, invalidArg("callback event", "has no client to read it back with (WithCallbackClient)")
	}
	return e.client.GetRichiesta(ctx, e.Richiesta.ID)
}

// Format prints the richiesta's summary and where it came from, for every
// verb: never the owner's address, the values or the callback secret.
func (e CallbackEvent) Format(f fmt.State, _ rune) {
	from := "delivery"
	if e.FromAPI {
		from = "API"
	}
	if e.Richiesta == nil {
		fmt.Fprintf(f, "visengine.CallbackEvent{From:%s Richiesta:nil}", from)
		return
	}
	fmt.Fprintf(f, "visengine.CallbackEvent{From:%s Richiesta:%v}", from, *e.Richiesta)
}

// LogValue logs the Format summary: slog's JSON handler would otherwise
// marshal the richiesta, secret and personal data included.
func (e CallbackEvent) LogValue() slog.Value { return summary(e) }

// CallbackFunc handles a delivery; an error makes the handler answer 500 so
// that Visengine may deliver again. It may be called again for the same
// event (after a restart or on another replica, unless
// WithCallbackDedupeStore shares the memory; once the dedupe window has
// passed; after a failure), so it must be idempotent. The richiesta it
// gets may be shared with other deliveries of the same richiesta: read
// it, do not change it.
type CallbackFunc func(ctx context.Context, ev *CallbackEvent) error

// Defaults of CallbackHandler.
const (
	// DefaultCallbackMaxBody caps a delivery's body; see WithCallbackMaxBody.
	DefaultCallbackMaxBody = 1 << 20
	// DefaultCallbackRereadTimeout bounds the handler's read-back of the
	// richiesta; see WithCallbackRereadTimeout.
	DefaultCallbackRereadTimeout = 20 * time.Second
	// DefaultCallbackDedupeWindow and DefaultCallbackDedupeEntries bound the
	// memory of deliveries already handled; see WithCallbackDedupe.
	DefaultCallbackDedupeWindow  = 24 * time.Hour
	DefaultCallbackDedupeEntries = 10000
	// DefaultCallbackRereadLimit bounds the read-backs in flight; see
	// WithCallbackRereadLimit.
	DefaultCallbackRereadLimit = 16
	// DefaultCallbackRetryAfter is the Retry-After of the handler's 503s;
	// see WithCallbackRetryAfter.
	DefaultCallbackRetryAfter = 30 * time.Second
)

// CallbackOption configures CallbackHandler. An option given a value it
// cannot use makes CallbackHandler return an error.
type CallbackOption func(*callbackConfig) error

type callbackConfig struct {
	secrets       [][]byte
	client        *Client
	maxBody       int64
	field         string
	rereadTimeout time.Duration
	timeoutSet    bool // WithCallbackRereadTimeout was given: it needs a client
	rereadLimit   int
	limitSet      bool // WithCallbackRereadLimit was given: it needs a client
	retryAfter    time.Duration
	window        time.Duration
	entries       int
	store         CallbackDedupe // WithCallbackDedupeStore; nil: this handler's memory only
}

// WithCallbackSecret sets the secret deliveries must carry: Callback.Secret
// of the one callback the application sends with every request. It must be
// at least MinCallbackSecretLen bytes. It replaces the secrets of an
// earlier WithCallbackSecret or WithCallbackSecrets.
func WithCallbackSecret(secret string) CallbackOption {
	return WithCallbackSecrets(secret)
}

// WithCallbackSecrets accepts a delivery that carries any of secrets, for
// rotation: while richieste sent with the old callback may still call back,
// list the old secret and the new one, and drop the old one once they are
// done. Each must be at least MinCallbackSecretLen bytes; each is compared
// in constant time, all of them for every delivery. It replaces the secrets
// of earlier options.
func WithCallbackSecrets(secrets ...string) CallbackOption {
	return func(c *callbackConfig) error {
		if len(secrets) == 0 {
			return invalidArg("WithCallbackSecrets", "needs at least one secret")
		}
		c.secrets = nil
		for _, s := range secrets {
			if err := checkSecret(s); err != nil {
				return err
			}
			c.secrets = append(c.secrets, []byte(s))
		}
		return nil
	}
}

// WithCallbackClient makes the handler treat each delivery as a hint: it
// reads the richiesta back with client (GET /richiesta/{id}, with the
// client's own token) and hands fn what the API answered, never the posted
// body. It also lets CallbackEvent.Reread work. This is the recommended
// setup; see CallbackHandler.
func WithCallbackClient(client *Client) CallbackOption {
	return func(c *callbackConfig) error {
		if client == nil || client.http == nil {
			return invalidArg("WithCallbackClient", "needs a client made by NewClient")
		}
		c.client = client
		return nil
	}
}

// WithCallbackRereadTimeout bounds the handler's read-back of the richiesta,
// retries included (default DefaultCallbackRereadTimeout), so that a slow
// API does not hold the delivery past the sender's own timeout. It needs
// WithCallbackClient.
func WithCallbackRereadTimeout(d time.Duration) CallbackOption {
	return func(c *callbackConfig) error {
		if d <= 0 {
			return invalidArg("WithCallbackRereadTimeout", "needs a positive duration")
		}
		c.rereadTimeout, c.timeoutSet = d, true
		return nil
	}
}

// WithCallbackRereadLimit bounds how many read-backs the handler has in
// flight at once (default DefaultCallbackRereadLimit). Deliveries of a
// richiesta already being read share that read and do not count; a
// delivery that would start one more is answered 503 at once, with
// Retry-After, so that a flood of deliveries cannot become a flood of
// GETs with the client's token. It needs WithCallbackClient.
func WithCallbackRereadLimit(n int) CallbackOption {
	return func(c *callbackConfig) error {
		if n < 1 {
			return invalidArg("WithCallbackRereadLimit", "needs at least 1")
		}
		c.rereadLimit, c.limitSet = n, true
		return nil
	}
}

// WithCallbackRetryAfter sets the Retry-After, in whole seconds rounded
// up, of the handler's 503 answers (default DefaultCallbackRetryAfter):
// when the read-back failed, when too many are in flight, and when the
// same event is being handled by another delivery. After the API answered
// a read-back 429 or 503 the handler also reads nothing for this long.
func WithCallbackRetryAfter(d time.Duration) CallbackOption {
	return func(c *callbackConfig) error {
		if d <= 0 {
			return invalidArg("WithCallbackRetryAfter", "needs a positive duration")
		}
		c.retryAfter = d
		return nil
	}
}

// WithCallbackMaxBody caps a delivery's body at n bytes (default
// DefaultCallbackMaxBody); n must be positive.
func WithCallbackMaxBody(n int64) CallbackOption {
	return func(c *callbackConfig) error {
		if n <= 0 {
			return invalidArg("WithCallbackMaxBody", "needs a positive size")
		}
		c.maxBody = n
		return nil
	}
}

// WithCallbackField names the form field of POST deliveries: the Field of
// the Callback sent (default DefaultCallbackField, also Visengine's).
func WithCallbackField(name string) CallbackOption {
	return func(c *callbackConfig) error {
		if name == "" {
			return invalidArg("WithCallbackField", "needs a field name")
		}
		c.field = name
		return nil
	}
}

// WithCallbackDedupe sets how long the handler remembers a delivery it
// handled, by richiesta id and stato, to answer a repeat 200 without
// calling fn again nor reading it back (default
// DefaultCallbackDedupeWindow), and how many it remembers at most (default
// DefaultCallbackDedupeEntries; the oldest are forgotten first). Each
// costs about 160 bytes, a fingerprint of the id and stato whatever the
// delivery carried, so the default keeps under 2 MB. A window of 0
// remembers nothing. The memory is this handler's: another replica, or the
// same after a restart, calls fn again unless WithCallbackDedupeStore
// shares it.
func WithCallbackDedupe(window time.Duration, maxEntries int) CallbackOption {
	return func(c *callbackConfig) error {
		if window < 0 || window > 0 && maxEntries < 1 {
			return invalidArg("WithCallbackDedupe", "needs window >= 0 and, with a window, maxEntries >= 1")
		}
		c.window, c.entries = window, maxEntries
		return nil
	}
}

// WithCallbackDedupeStore shares the memory of handled events with the
// other replicas through store (journal.Postgres's CallbackDedupe, for
// one), so that a delivery that reaches two of them calls fn once. The
// handler still keeps its own memory (WithCallbackDedupe), asked first;
// the store's marks last the same window. While a replica handles an
// event, a delivery of it elsewhere is answered 503 (it may fail there);
// see DefaultCallbackLease. When the store cannot be reached the delivery
// is answered 503. It needs a dedupe window.
func WithCallbackDedupeStore(store CallbackDedupe) CallbackOption {
	return func(c *callbackConfig) error {
		if store == nil {
			return invalidArg("WithCallbackDedupeStore", "needs a store")
		}
		c.store = store
		return nil
	}
}

type callbackHandler struct {
	fn     CallbackFunc
	cfg    callbackConfig
	seen   *dedupe  // nil when the window is 0
	reads  *rereads // nil without a client
	holder string   // names this handler's claims in cfg.store
}

// CallbackHandler receives Visengine's callbacks in both forms (a JSON body
// {"data": <richiesta>}, or a form with that JSON in one field) and calls
// fn once per event. It is refused when built (an error matching
// ErrInvalidArgument) without fn, without a secret (WithCallbackSecret), or
// with an option it cannot use.
//
// What the secret proves, and what it does not. The secret is static, and
// Visengine echoes it in every delivery and in every GET /richiesta/{id} of
// a richiesta sent with the callback. It keeps out whoever has never seen
// it. Whoever has seen one delivery or one read of such a richiesta (a log
// of request bodies, a proxy, a tunnel) can post bodies that carry it, with
// any id, stato, owner and allegati, and replay them at will: the secret
// does not prove that a body comes from Visengine, that it is unaltered, or
// that it is fresh. So:
//
//   - With WithCallbackClient (recommended, and what the examples do) a
//     delivery is only a hint: the handler reads the richiesta back with
//     the client's own token and fn gets the API's answer. A forged body
//     can at most cause that read. If the read fails (the id does not
//     exist for this account, the API is unreachable, the read takes
//     longer than WithCallbackRereadTimeout) fn is not called and the
//     handler answers 503, so that Visengine may deliver again later.
//   - Without a client, fn gets the posted body as is (CallbackEvent.FromAPI
//     is false): act on nothing in it without reading the richiesta back.
//
// A delivery for a richiesta and stato already handled within the dedupe
// window (WithCallbackDedupe) is answered 200 without calling fn and
// without reading it back; with a client the stato is the API's, so a
// forged stato can neither call fn twice nor silence a genuine delivery. A
// repeat that arrives while the first is still being handled is answered
// 503. WithCallbackDedupeStore extends this memory to every replica.
//
// A flood costs the API little: a replay of a handled event makes no read;
// deliveries of one richiesta arriving together share one read; at most
// WithCallbackRereadLimit reads are in flight; a read is never retried
// here (Visengine delivers again instead); and once the API answered a
// read 429 or 503, deliveries that need a read are refused for the
// Retry-After without one. Every 503 carries Retry-After
// (WithCallbackRetryAfter).
//
// Without calling fn it answers 405 to a method other than POST, 415 to
// another content type, 413 to a body over WithCallbackMaxBody, 400 to a
// body that is not a callback, and 401 when the secret is missing or wrong
// (compared in constant time with each secret). It answers 200 once fn
// succeeded, and 500 when fn failed.
//
// Send the same callback (created once with NewCallback, its secret
// persisted and restored with NewCallbackWithSecret) with every request,
// and pass its Secret here; use WithCallbackSecrets while rotating.
func CallbackHandler(fn CallbackFunc, opts ...CallbackOption) (http.Handler, error) {
	if fn == nil {
		return nil, invalidArg("CallbackHandler", "needs a CallbackFunc")
	}
	cfg := callbackConfig{maxBody: DefaultCallbackMaxBody, field: DefaultCallbackField,
		rereadTimeout: DefaultCallbackRereadTimeout, rereadLimit: DefaultCallbackRereadLimit,
		retryAfter: DefaultCallbackRetryAfter, window: DefaultCallbackDedupeWindow, entries: DefaultCallbackDedupeEntries}
	for _, opt := range opts {
		if opt == nil {
			return nil, invalidArg("callback option", "is nil")
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	h := &callbackHandler{fn: fn, cfg: cfg}
	if cfg.window > 0 {
		h.seen = newDedupe(cfg.window, cfg.entries, time.Now)
	}
	if cfg.client != nil {
		h.reads = newRereads(&cfg)
	}
	if cfg.store != nil {
		holder := make([]byte, 16)
		if _, err := rand.Read(holder); err != nil {
			return nil, fmt.Errorf("visengine: callback handler name: %w", err)
		}
		h.holder = hex.EncodeToString(holder)
	}
	return h, nil
}

// check refuses the options that cannot work together.
func (c *callbackConfig) check() error {
	const noClient = "needs WithCallbackClient: there is nothing to read back with"
	switch {
	case len(c.secrets) == 0:
		return invalidArg("CallbackHandler", "needs WithCallbackSecret: without a secret it would refuse every delivery")
	case c.timeoutSet && c.client == nil:
		return invalidArg("WithCallbackRereadTimeout", noClient)
	case c.limitSet && c.client == nil:
		return invalidArg("WithCallbackRereadLimit", noClient)
	case c.store != nil && c.window == 0:
		return invalidArg("WithCallbackDedupeStore", "needs a dedupe window: WithCallbackDedupe(0, …) remembers nothing")
	}
	return nil
}

func (h *callbackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	posted, status := h.delivery(w, r)
	v := verdict{status: status}
	if status == 0 {
		v = h.handle(r.Context(), posted)
	}
	if v.status != http.StatusOK {
		if v.status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", strconv.FormatInt(int64(max(time.Second, v.retryAfter+time.Second-1)/time.Second), 10))
		}
		http.Error(w, http.StatusText(v.status), v.status)
		return
	}
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "ok")
}

// delivery reads and authenticates the posted richiesta, or returns the
// status that refuses it.
func (h *callbackHandler) delivery(w http.ResponseWriter, r *http.Request) (*Richiesta, int) {
	payload, status := h.payload(w, r)
	if status != 0 {
		return nil, status
	}
	var msg struct {
		Data *Richiesta `json:"data"`
	}
	if err := json.Unmarshal(payload, &msg); err != nil || msg.Data == nil || checkID("id", msg.Data.ID) != nil {
		return nil, http.StatusBadRequest
	}
	if !h.genuine(msg.Data) {
		return nil, http.StatusUnauthorized
	}
	return msg.Data, 0
}

// handle turns an authenticated delivery into at most one call of fn.
// The event posted is claimed before anything is read back, so that its
// replays and concurrent copies cost nothing; with a client, the event fn
// gets is the API's, claimed in turn when it differs from the posted one.
// The claim held is settled whatever happens, a panic in fn included:
// otherwise the event would stay busy, refused 503 for ever.
func (h *callbackHandler) handle(ctx context.Context, posted *Richiesta) verdict {
	held := keyOf(posted.ID, posted.StatoRichiesta)
	if v, mine := h.claim(ctx, held); !mine {
		return v
	}
	holding, handled := true, false
	defer func() {
		if holding {
			h.settle(ctx, held, handled)
		}
	}()
	ev := &CallbackEvent{Richiesta: posted}
	if h.reads != nil {
		r, v := h.reads.get(ctx, posted.ID)
		if r == nil {
			return v
		}
		if truth := keyOf(r.ID, r.StatoRichiesta); truth != held {
			holding = false
			h.settle(ctx, held, false) // the posted stato is not (or no longer) the API's
			if v, mine := h.claim(ctx, truth); !mine {
				return v
			}
			held, holding = truth, true
		}
		ev = &CallbackEvent{Richiesta: r, FromAPI: true, client: h.cfg.client}
	}
	if err := h.fn(ctx, ev); err != nil {
		return verdict{status: http.StatusInternalServerError}
	}
	handled = true
	return answerOK
}

// claim takes key for this delivery, in the handler's memory and then in
// the shared store, or returns the answer that leaves it alone.
func (h *callbackHandler) claim(ctx context.Context, key eventKey) (verdict, bool) {
	busy := verdict{http.StatusServiceUnavailable, h.cfg.retryAfter}
	switch h.seen.claim(key) {
	case claimDone:
		return answerOK, false
	case claimBusy:
		return busy, false
	}
	if h.cfg.store == nil {
		return verdict{}, true
	}
	got, err := h.cfg.store.ClaimCallback(ctx, key.String(), h.holder, DefaultCallbackLease)
	switch {
	case err == nil && got == CallbackClaimed:
		return verdict{}, true
	case err == nil && got == CallbackDone:
		h.seen.finish(key, true) // remembered here too: the next replay asks no one
		return answerOK, false
	}
	h.seen.finish(key, false) // busy elsewhere, or the store is unreachable: deliver again
	return busy, false
}

// settle ends this delivery's claim on key; handled remembers the event.
// The store is told even when the sender has hung up: the claim would
// otherwise block the event elsewhere until its lease ran out.
func (h *callbackHandler) settle(ctx context.Context, key eventKey, handled bool) {
	h.seen.finish(key, handled)
	if h.cfg.store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.cfg.rereadTimeout)
	defer cancel()
	// A failure leaves the claim to run out: elsewhere the event is then
	// refused 503 until the lease ends, and handled again once it has.
	_ = h.cfg.store.SettleCallback(ctx, key.String(), h.holder, handled, h.cfg.window)
}

// payload returns the JSON text of a delivery, or the status to refuse it.
func (h *callbackHandler) payload(w http.ResponseWriter, r *http.Request) ([]byte, int) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" && mt != "application/x-www-form-urlencoded" {
		return nil, http.StatusUnsupportedMediaType
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.maxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, http.StatusRequestEntityTooLarge
	case err != nil:
		return nil, http.StatusBadRequest
	case mt == "application/json":
		return body, 0
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || !form.Has(h.cfg.field) {
		return nil, http.StatusBadRequest
	}
	return []byte(form.Get(h.cfg.field)), 0
}

// genuine compares the echoed secret with each of ours in constant time,
// without stopping at a match, so timing tells neither which one matched.
func (h *callbackHandler) genuine(r *Richiesta) bool {
	if r.CallbackData == nil {
		return false
	}
	got, _ := r.CallbackData.Data[CallbackSecretKey].(string)
	if got == "" {
		return false
	}
	ok := 0
	for _, s := range h.cfg.secrets {
		ok |= subtle.ConstantTimeCompare([]byte(got), s)
	}
	return ok == 1
}

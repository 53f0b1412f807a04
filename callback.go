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
	"mime"
	"net/http"
	"net/url"
)

// Delivery forms of a callback (callback_data.method).
const (
	CallbackJSON = "JSON" // a JSON body {"data": <richiesta>}
	CallbackPOST = "POST" // a form with the JSON in one field (Visengine's default)
)

// CallbackSecretKey is the key of callback_data.data under which
// NewCallback plants its secret; Visengine echoes data back in every
// callback, which is how CallbackHandler knows a delivery is genuine.
const CallbackSecretKey = "visengine_secret"

// Callback is the callback_data of a richiesta: where and how Visengine
// posts the richiesta when search results or the document are ready. Its
// Format hides Data, which holds the secret.
type Callback struct {
	URL    string         `json:"url"`
	Method string         `json:"method"`          // CallbackJSON or CallbackPOST
	Field  string         `json:"field,omitempty"` // the form field, for CallbackPOST
	Data   map[string]any `json:"data"`            // echoed back; holds the secret
}

// NewCallback returns a callback to rawURL delivered as method (CallbackJSON
// or CallbackPOST, whose form field is "data"), with a random 256-bit secret
// planted in Data. The URL must be HTTPS, or plain HTTP on loopback.
//
// Create ONE callback when the application is first set up, persist its
// Secret (next to the token, in the secret store) and reuse the same
// callback for every Submit or CreateRichiesta, also after restarts (rebuild
// it with NewCallbackWithSecret). CallbackHandler accepts only the secrets it
// is given: a callback created per request, or anew at each start, carries a
// secret the handler does not know, and its deliveries are refused with 401.
func NewCallback(rawURL, method string) (*Callback, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("visengine: callback secret: %w", err)
	}
	return NewCallbackWithSecret(rawURL, method, hex.EncodeToString(secret))
}

// MinCallbackSecretLen is the shortest secret NewCallbackWithSecret accepts,
// in bytes. NewCallback's secrets are 64 hex characters.
const MinCallbackSecretLen = 32

// NewCallbackWithSecret is NewCallback with a secret of the caller's: the
// one persisted when the callback was first created (Callback.Secret), so a
// restarted application sends the secret its CallbackHandler checks. The
// secret must be at least MinCallbackSecretLen bytes, e.g. 32 random bytes
// in hex, and is never printed by Format.
func NewCallbackWithSecret(rawURL, method, secret string) (*Callback, error) {
	if len(secret) < MinCallbackSecretLen {
		return nil, invalidArg("callback secret", fmt.Sprintf("is shorter than %d bytes", MinCallbackSecretLen))
	}
	cb := &Callback{URL: rawURL, Method: method, Data: map[string]any{CallbackSecretKey: secret}}
	if method == CallbackPOST {
		cb.Field = "data"
	}
	if err := cb.check(); err != nil {
		return nil, err
	}
	return cb, nil
}

// Secret returns the secret NewCallback or NewCallbackWithSecret planted,
// to persist and to give CallbackHandler.
func (c *Callback) Secret() string {
	if c == nil {
		return ""
	}
	s, _ := c.Data[CallbackSecretKey].(string)
	return s
}

// Format prints the destination and method only, for every verb: the
// secret and the URL's query never reach a log through %v.
func (c Callback) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "visengine.Callback{URL:%s Method:%s Field:%s}", redactURL(c.URL), c.Method, c.Field)
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	return u.Scheme + "://" + u.Host + u.Path
}

func (c *Callback) check() error {
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" {
		return invalidArg("callback URL", "is not an absolute URL")
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())) {
		return invalidArg("callback URL", "must be https (plain http only on loopback)")
	}
	switch {
	case c.Method != CallbackJSON && c.Method != CallbackPOST:
		return invalidArg("callback method", `must be "JSON" or "POST"`)
	case c.Method == CallbackPOST && c.Field == "":
		return invalidArg("callback field", `is required with method "POST"`)
	}
	return nil
}

// CallbackEvent is one genuine delivery.
type CallbackEvent struct {
	// Richiesta is as Visengine posted it. Treat it as a notification and
	// Reread it before acting on money or documents.
	Richiesta *Richiesta
	client    *Client
}

// Reread fetches the richiesta from the API, the authoritative source. It
// needs the handler's WithCallbackClient.
func (e *CallbackEvent) Reread(ctx context.Context) (*Richiesta, error) {
	if e == nil || e.Richiesta == nil {
		return nil, invalidArg("callback event", "is nil or has no richiesta")
	}
	if e.client == nil {
		return nil, errors.New("visengine: CallbackEvent.Reread needs WithCallbackClient")
	}
	return e.client.GetRichiesta(ctx, e.Richiesta.ID)
}

// CallbackFunc handles a delivery; an error makes the handler answer 500 so
// that Visengine may deliver again.
type CallbackFunc func(ctx context.Context, ev *CallbackEvent) error

// CallbackOption configures CallbackHandler.
type CallbackOption func(*callbackHandler)

// WithCallbackSecret sets the secret deliveries must carry (Callback.Secret
// of the one callback the application sends with every request). It
// replaces the secrets of an earlier WithCallbackSecret or
// WithCallbackSecrets; an empty secret accepts nothing.
func WithCallbackSecret(secret string) CallbackOption {
	return WithCallbackSecrets(secret)
}

// WithCallbackSecrets accepts a delivery that carries any of secrets, for
// rotation: while richieste sent with the old callback may still call back,
// list the old secret and the new one, and drop the old one once they are
// done. Each is compared in constant time, all of them for every delivery.
// Empty secrets are ignored; it replaces the secrets of earlier options.
func WithCallbackSecrets(secrets ...string) CallbackOption {
	return func(h *callbackHandler) {
		h.secrets = nil
		for _, s := range secrets {
			if s != "" {
				h.secrets = append(h.secrets, []byte(s))
			}
		}
	}
}

// WithCallbackClient lets CallbackEvent.Reread use c.
func WithCallbackClient(c *Client) CallbackOption { return func(h *callbackHandler) { h.client = c } }

// WithCallbackMaxBody caps a delivery's body (default 1 MiB).
func WithCallbackMaxBody(n int64) CallbackOption { return func(h *callbackHandler) { h.maxBody = n } }

// WithCallbackField names the form field of CallbackPOST deliveries
// (default "data").
func WithCallbackField(name string) CallbackOption {
	return func(h *callbackHandler) { h.field = name }
}

type callbackHandler struct {
	fn      CallbackFunc
	secrets [][]byte
	client  *Client
	maxBody int64
	field   string
}

// CallbackHandler receives Visengine's callbacks in both forms (JSON body
// {"data": <richiesta>}, or a form with that JSON in one field) and calls
// fn for genuine ones. Without fn being called it answers 405 to a method
// other than POST, 415 to another content type, 413 to a body over the cap,
// 400 to bad JSON and 401 when the secret is wrong or missing (compared in
// constant time; a handler without WithCallbackSecret refuses everything).
// It answers 200 only after fn succeeded and 500 when fn failed.
//
// The handler checks the secret(s) it is given, not one per richiesta: send
// the same callback (created once with NewCallback, its secret persisted and
// restored with NewCallbackWithSecret) with every request, and pass its
// Secret here. Use WithCallbackSecrets while rotating to a new secret.
func CallbackHandler(fn CallbackFunc, opts ...CallbackOption) http.Handler {
	h := &callbackHandler{fn: fn, maxBody: 1 << 20, field: "data"}
	for _, opt := range opts {
		opt(h)
	}
	return h
}

func (h *callbackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	payload, status := h.payload(w, r)
	if status != 0 {
		http.Error(w, http.StatusText(status), status)
		return
	}
	var msg struct {
		Data *Richiesta `json:"data"`
	}
	if err := json.Unmarshal(payload, &msg); err != nil || msg.Data == nil || checkID("id", msg.Data.ID) != nil {
		http.Error(w, "body is not a Visengine callback", http.StatusBadRequest)
		return
	}
	if !h.genuine(msg.Data) {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if h.fn == nil || h.fn(r.Context(), &CallbackEvent{Richiesta: msg.Data, client: h.client}) != nil {
		http.Error(w, "callback not processed", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "ok")
}

// payload returns the JSON text of a delivery, or the status to refuse it.
func (h *callbackHandler) payload(w http.ResponseWriter, r *http.Request) ([]byte, int) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" && mt != "application/x-www-form-urlencoded" {
		return nil, http.StatusUnsupportedMediaType
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
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
	if err != nil || !form.Has(h.field) {
		return nil, http.StatusBadRequest
	}
	return []byte(form.Get(h.field)), 0
}

// genuine compares the echoed secret with each of ours in constant time,
// without stopping at a match, so timing tells neither which one matched.
func (h *callbackHandler) genuine(r *Richiesta) bool {
	if len(h.secrets) == 0 || r.CallbackData == nil {
		return false
	}
	got, _ := r.CallbackData.Data[CallbackSecretKey].(string)
	if got == "" {
		return false
	}
	ok := 0
	for _, s := range h.secrets {
		ok |= subtle.ConstantTimeCompare([]byte(got), s)
	}
	return ok == 1
}

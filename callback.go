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
func NewCallback(rawURL, method string) (*Callback, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("visengine: callback secret: %w", err)
	}
	cb := &Callback{URL: rawURL, Method: method, Data: map[string]any{CallbackSecretKey: hex.EncodeToString(secret)}}
	if method == CallbackPOST {
		cb.Field = "data"
	}
	if err := cb.check(); err != nil {
		return nil, err
	}
	return cb, nil
}

// Secret returns the secret NewCallback planted, for CallbackHandler.
func (c *Callback) Secret() string {
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

// WithCallbackSecret sets the secret deliveries must carry (Callback.Secret).
func WithCallbackSecret(secret string) CallbackOption {
	return func(h *callbackHandler) { h.secret = []byte(secret) }
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
	secret  []byte
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

// genuine compares the echoed secret with ours in constant time.
func (h *callbackHandler) genuine(r *Richiesta) bool {
	if len(h.secret) == 0 || r.CallbackData == nil {
		return false
	}
	got, _ := r.CallbackData.Data[CallbackSecretKey].(string)
	return subtle.ConstantTimeCompare([]byte(got), h.secret) == 1
}

package visengine

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
)

// Delivery forms of a callback (callback_data.method). A Callback whose
// Method is empty sends no "method", and Visengine then uses its default,
// CallbackPOST.
const (
	CallbackJSON = "JSON" // a JSON body {"data": <richiesta>}
	CallbackPOST = "POST" // a form with the JSON in one field (Visengine's default)
)

// DefaultCallbackField is the form field of a CallbackPOST delivery when the
// Callback names none: Visengine's default, and CallbackHandler's unless
// WithCallbackField says otherwise.
const DefaultCallbackField = "data"

// CallbackSecretKey is the key of callback_data.data under which
// NewCallback plants its secret; Visengine echoes data back in every
// callback, which is how CallbackHandler knows a delivery is genuine.
const CallbackSecretKey = "visengine_secret"

// Callback is the callback_data of a richiesta: where and how Visengine
// posts the richiesta when search results or the document are ready. It is
// sent as set, as the vendor's spec allows: an empty Method or Field is
// left out, and Visengine then posts a form (CallbackPOST) whose field is
// DefaultCallbackField. Its Format and LogValue hide Data, which holds the
// secret, and the URL's userinfo and query.
type Callback struct {
	URL    string         `json:"url"`
	Method string         `json:"method,omitempty"` // CallbackJSON, CallbackPOST, or "" for Visengine's default (POST)
	Field  string         `json:"field,omitempty"`  // the form field of a POST delivery; "" for the default, "data"
	Data   map[string]any `json:"data"`             // echoed back; holds the secret
}

// MarshalJSON sends the callback as set, with data as {} when it is nil:
// the vendor's spec types callback_data.data as an object, never null.
func (c Callback) MarshalJSON() ([]byte, error) {
	type wire Callback // the fields without the methods
	w := wire(c)
	if w.Data == nil {
		w.Data = map[string]any{}
	}
	return json.Marshal(w)
}

// NewCallback returns a callback to rawURL delivered as method (CallbackJSON,
// CallbackPOST, whose form field is set to DefaultCallbackField, or "" for
// Visengine's default, a POST form), with a random 256-bit secret planted
// in Data. The URL must be HTTPS, or plain HTTP on loopback.
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

// MinCallbackSecretLen is the shortest callback secret accepted, in bytes,
// wherever one is set: NewCallbackWithSecret, a Callback's Data sent with a
// richiesta, WithCallbackSecret and WithCallbackSecrets. NewCallback's
// secrets are 64 hex characters.
const MinCallbackSecretLen = 32

// NewCallbackWithSecret is NewCallback with a secret of the caller's: the
// one persisted when the callback was first created (Callback.Secret), so a
// restarted application sends the secret its CallbackHandler checks. The
// secret must be at least MinCallbackSecretLen bytes, e.g. 32 random bytes
// in hex, and is never printed by Format.
func NewCallbackWithSecret(rawURL, method, secret string) (*Callback, error) {
	if err := checkSecret(secret); err != nil {
		return nil, err
	}
	cb := &Callback{URL: rawURL, Method: method, Data: map[string]any{CallbackSecretKey: secret}}
	if method == CallbackPOST {
		cb.Field = DefaultCallbackField
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

// redactURL shows a URL without its userinfo, query and fragment, where
// credentials may have been put.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// check refuses a callback Visengine could not call or that carries a weak
// secret. Its errors never quote the URL, which may hold credentials.
func (c *Callback) check() error {
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" {
		return invalidArg("callback URL", "is not an absolute URL")
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())) {
		return invalidArg("callback URL", "must be https (plain http only on loopback)")
	}
	if c.Method != "" && c.Method != CallbackJSON && c.Method != CallbackPOST {
		return invalidArg("callback method", `must be "JSON", "POST" or empty (Visengine's default, POST)`)
	}
	if s, ok := c.Data[CallbackSecretKey]; ok {
		return checkSecret(s)
	}
	return nil
}

// checkSecret enforces MinCallbackSecretLen wherever a secret is set.
func checkSecret(s any) error {
	str, ok := s.(string)
	if !ok || len(str) < MinCallbackSecretLen {
		return invalidArg("callback secret", fmt.Sprintf("is not a string of at least %d bytes", MinCallbackSecretLen))
	}
	return nil
}

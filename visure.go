package visengine

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// VisuraSummary is one entry of the catalogue (GET /visure).
type VisuraSummary struct {
	NomeVisura    string `json:"nome_visura"`    // the service's name
	NomeCategoria string `json:"nome_categoria"` // e.g. "Camerali", "Patronato"
	HashVisura    string `json:"hash_visura"`    // the service's opaque id
}

// Visura is one service's structure and price (GET /visure/{hash}): the
// fields to fill, the rule they must satisfy, options and prices.
type Visura struct {
	HashVisura    string          `json:"hash_visura"`
	NomeVisura    string          `json:"nome_visura"`
	NomeCategoria string          `json:"nome_categoria"`
	JSONStruttura Struttura       `json:"json_struttura"`
	HasRicerca    Flag            `json:"ricerca"`        // the service starts with a search step
	PrezzoVisura  Price           `json:"prezzo_visura"`  // price of the document
	PrezzoRicerca Price           `json:"prezzo_ricerca"` // price of the search step
	Sincrona      Flag            `json:"sincrona"`       // undocumented by Visengine
	Opzioni       []Opzione       `json:"opzioni"`        // paid extras; nil when the wire has null
	Fornitori     json.RawMessage `json:"fornitori"`      // undocumented; kept raw
}

// Struttura is the json_struttura of a Visura.
type Struttura struct {
	// Campi maps keys ("$0", "$1", …) to field descriptions.
	Campi map[string]Campo `json:"campi"`
	// Validazione is the rule over the keys that must hold, e.g. "$0 && $1".
	Validazione string `json:"validazione"`
	// Istruzioni is HTML encoded in base64; see IstruzioniHTML.
	Istruzioni string `json:"istruzioni"`
	// IstruzioniRicerca is the search step's instructions, base64 HTML.
	IstruzioniRicerca string `json:"istruzioni_ricerca"`

	// compiled caches Validazione parsed at decode time, so Validate does not
	// re-parse it; it is immutable once set, hence safe to share between
	// copies and concurrent calls (see validation.go).
	compiled *compiledRule
}

// UnmarshalJSON decodes the structure and compiles its rule once.
func (s *Struttura) UnmarshalJSON(b []byte) error {
	if s == nil {
		return invalidArg("struttura", "is nil")
	}
	type plain Struttura // no methods: avoids recursion
	if err := json.Unmarshal(b, (*plain)(s)); err != nil {
		return err
	}
	for k, c := range s.Campi {
		c.Key = k
		s.Campi[k] = c
	}
	s.compiled = compileRule(s.Validazione)
	return nil
}

// IstruzioniHTML decodes Istruzioni, which Visengine sends as base64 HTML
// (the delegation form's link, for the services that need one, is in it).
func (s *Struttura) IstruzioniHTML() (string, error) {
	if s == nil {
		return "", invalidArg("struttura", "is nil")
	}
	return decodeBase64Text(s.Istruzioni)
}

// IstruzioniRicercaHTML decodes IstruzioniRicerca like IstruzioniHTML.
func (s *Struttura) IstruzioniRicercaHTML() (string, error) {
	if s == nil {
		return "", invalidArg("struttura", "is nil")
	}
	return decodeBase64Text(s.IstruzioniRicerca)
}

func decodeBase64Text(s string) (string, error) {
	s = strings.TrimSpace(s)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(s); err != nil {
			return "", fmt.Errorf("%w: istruzioni are not base64", ErrUnexpectedResponse)
		}
	}
	return string(b), nil
}

// Campo describes one input field ("campo") of a service. Key is not on
// the wire's object: it is the field's key in json_struttura.campi, filled
// when the Visura is decoded and by Fields and Field.
type Campo struct {
	Key        string          `json:"-"`          // "$3"
	Nome       string          `json:"nome"`       // label, e.g. "CODICE FISCALE"
	Tipo       string          `json:"tipo"`       // e.g. "testo", "email", "file"; unknown values kept
	Null       Flag            `json:"null"`       // the wire's "null" flag; false on required fields
	Ordine     Ordine          `json:"ordine"`     // display position, sent as a string
	Istruzioni string          `json:"istruzioni"` // plain-text help for the field
	Opzioni    json.RawMessage `json:"opzioni"`    // choices, seen as a string or an object; kept raw
}

// Index is the number in the key ("$3" → 3), or -1 when it has none.
func (c Campo) Index() int { return keyIndex(c.Key) }

func keyIndex(key string) int {
	if len(key) < 2 || key[0] != '$' {
		return -1
	}
	n, err := strconv.Atoi(key[1:])
	if err != nil || n < 0 || strings.ContainsAny(key[1:], "+-") {
		return -1
	}
	return n
}

// Fields returns the campi in display order, the way Visengine's forms show
// them: by ordine, then by key number. Visengine numbers ordine from 1 and
// leaves it out on the first field ($0), so a field without one comes first:
// on A2, "$0 Nome" and then "$1 Cognome". A nil Visura has no fields.
func (v *Visura) Fields() []Campo {
	if v == nil {
		return nil
	}
	fields := make([]Campo, 0, len(v.JSONStruttura.Campi))
	for k, c := range v.JSONStruttura.Campi {
		c.Key = k
		fields = append(fields, c)
	}
	slices.SortFunc(fields, compareFields)
	return fields
}

// compareFields orders by ordine (absent or unreadable counting as 0), then
// by key number (keys without one last, by text).
func compareFields(a, b Campo) int {
	return cmp.Or(cmp.Compare(a.Ordine.n, b.Ordine.n), compareFieldKeys(a.Key, b.Key))
}

// Field returns the field with the given key ("$3") or name ("CELLULARE",
// compared without regard to case or surrounding blanks).
func (v *Visura) Field(keyOrName string) (Campo, bool) {
	if v == nil {
		return Campo{}, false
	}
	if c, ok := v.JSONStruttura.Campi[keyOrName]; ok {
		c.Key = keyOrName
		return c, true
	}
	want := strings.TrimSpace(keyOrName)
	for _, f := range v.Fields() {
		if strings.EqualFold(strings.TrimSpace(f.Nome), want) {
			return f, true
		}
	}
	return Campo{}, false
}

// Opzione is a paid extra of a service, such as "urgenza".
type Opzione struct {
	Tipo   string `json:"tipo"`   // what it is, e.g. "urgenza"
	Prezzo Price  `json:"prezzo"` // its price
	Nome   string `json:"nome"`   // its key in a request, e.g. "opzione_0"
}

// Opzione finds an option by its nome ("opzione_0") or tipo ("urgenza").
func (v *Visura) Opzione(nameOrTipo string) (*Opzione, bool) {
	if v == nil {
		return nil, false
	}
	for i := range v.Opzioni {
		if o := &v.Opzioni[i]; o.Nome == nameOrTipo || o.Tipo == nameOrTipo {
			return o, true
		}
	}
	return nil, false
}

// Total is the price of the document with the chosen options (by nome or
// tipo), summed exactly. An option named twice ("urgenza" and its
// nome "opzione_0") counts once, as a request carries each option once. An
// unknown option is an error, so a typo cannot silently drop a paid extra.
func (v *Visura) Total(options ...string) (Price, error) {
	if v == nil {
		return Price{}, invalidArg("visura", "is nil")
	}
	total := v.PrezzoVisura
	if !total.inRange() {
		return Price{}, fmt.Errorf("%w: prezzo_visura out of range", ErrBadPrice)
	}
	seen := make(map[*Opzione]bool, len(options))
	for _, name := range options {
		o, ok := v.Opzione(name)
		if !ok {
			return Price{}, invalidArg("option", fmt.Sprintf("%q is not offered by this service", name))
		}
		if seen[o] {
			continue
		}
		seen[o] = true
		// Both terms are within ±MaxPriceMicros, so the sum cannot overflow.
		if !o.Prezzo.inRange() || !total.Add(o.Prezzo).inRange() {
			return Price{}, fmt.Errorf("%w: total out of range", ErrBadPrice)
		}
		total = total.Add(o.Prezzo)
	}
	return total, nil
}

// decimal is a decimal number's text split into its parts.
type decimal[T string | []byte] struct {
	neg         bool
	whole, frac T   // the digits before and after the dot
	exp         int // the exponent
}

// splitDecimal admits what JSON numbers look like, also with a leading or
// trailing dot ("4.", ".5") and leading zeros, with a mantissa of at most 40
// characters and an exponent of at most two digits.
func splitDecimal[T string | []byte](s T) (d decimal[T], ok bool) {
	mant, exp := s, s[len(s):]
	for i := 0; i < len(s); i++ {
		if s[i] == 'e' || s[i] == 'E' {
			mant, exp = s[:i], s[i+1:]
			if len(exp) == 0 {
				return d, false
			}
			break
		}
	}
	if len(mant) > 0 && mant[0] == '-' {
		d.neg, mant = true, mant[1:]
	}
	d.whole, d.frac = mant, mant[len(mant):]
	for i := 0; i < len(mant); i++ {
		if mant[i] == '.' {
			d.whole, d.frac = mant[:i], mant[i+1:]
			break
		}
	}
	if len(d.whole)+len(d.frac) == 0 || !allDigits(d.whole) || !allDigits(d.frac) || len(mant) > 40 {
		return d, false
	}
	if len(exp) > 0 {
		if d.exp, ok = smallExponent(exp); !ok {
			return d, false
		}
	}
	return d, true
}

// smallExponent reads an exponent of one or two digits, with an optional
// sign.
func smallExponent[T string | []byte](e T) (int, bool) {
	neg := e[0] == '-'
	if e[0] == '+' || e[0] == '-' {
		e = e[1:]
	}
	if len(e) == 0 || len(e) > 2 || !allDigits(e) {
		return 0, false
	}
	n := 0
	for i := 0; i < len(e); i++ {
		n = n*10 + int(e[i]-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

func allDigits[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Flag is a boolean that Visengine sends as true/false, 0/1 or "1"/"0".
type Flag bool

// UnmarshalJSON accepts true, false, 0, 1, their string forms and null
// (false).
func (f *Flag) UnmarshalJSON(b []byte) error {
	if f == nil {
		return invalidArg("flag", "is nil")
	}
	switch strings.Trim(string(bytes.TrimSpace(b)), `"`) {
	case "true", "1":
		*f = true
	case "false", "0", "", "null":
		*f = false
	default:
		return fmt.Errorf("%w: flag is not a boolean", ErrUnexpectedResponse)
	}
	return nil
}

// Ordine is a field's display position, sent as a string ("3"). Visengine
// leaves it out on the first field ($0); an absent or unreadable ordine
// counts as 0 when Fields sorts. It prints as the number, or "unset".
type Ordine struct {
	n   int // 0 when unset
	set bool
}

// Value returns the position and whether the field has one.
func (o Ordine) Value() (int, bool) { return o.n, o.set }

// String returns the position ("5"), or "unset" when the field has none.
func (o Ordine) String() string {
	if !o.set {
		return "unset"
	}
	return strconv.Itoa(o.n)
}

// UnmarshalJSON accepts "3", 3 and null.
func (o *Ordine) UnmarshalJSON(b []byte) error {
	if o == nil {
		return invalidArg("ordine", "is nil")
	}
	s := strings.TrimSpace(strings.Trim(string(bytes.TrimSpace(b)), `"`))
	n, err := strconv.Atoi(s)
	if err != nil {
		n = 0 // Atoi returns the clamped value on overflow
	}
	*o = Ordine{n: n, set: err == nil}
	return nil
}

// MarshalJSON writes the wire's string form, or null.
func (o Ordine) MarshalJSON() ([]byte, error) {
	if !o.set {
		return []byte("null"), nil
	}
	return []byte(strconv.Quote(strconv.Itoa(o.n))), nil
}

// ListVisure returns the catalogue of the account's environment (GET
// /visure): each service's name, category and hash. An entry that cannot
// be read does not hide the others: they are returned together with a
// *ListError that names each unreadable entry with its own error.
func (c *Client) ListVisure(ctx context.Context) ([]VisuraSummary, error) {
	var l visureList
	if err := c.call(ctx, http.MethodGet, "/visure", nil, &l); err != nil {
		return nil, err
	}
	return l.ok, listError("GET /visure", l.n, l.bad)
}

// visureList is the catalogue, read straight from the stream with
// encoding/json's rules for a VisuraSummary: null leaves a field as it
// is, another type is an error, which is the entry's own.
type visureList struct {
	ok  []VisuraSummary // the entries read, in order
	bad []EntryError    // the others
	n   int             // entries in all
}

func (l *visureList) decodeWire(w *wireReader) error {
	*l = visureList{}
	c, err := w.Kind()
	if err != nil {
		return err
	}
	if c != '[' {
		w.fail(typeError(c, reflect.TypeFor[[]VisuraSummary](), ""))
		return w.Skip()
	}
	l.ok = []VisuraSummary{}
	err = w.Array(func() error {
		outer := w.err
		w.err = nil
		var v VisuraSummary
		err := w.visuraSummary(&v)
		if w.err != nil {
			x := EntryError{Index: l.n, Err: w.err}
			if checkHash(v.HashVisura) == nil {
				x.ID = v.HashVisura
			}
			l.bad = append(l.bad, x)
		} else {
			l.ok = append(l.ok, v)
		}
		l.n, w.err = l.n+1, outer
		return err
	})
	return err
}

func (w *wireReader) visuraSummary(v *VisuraSummary) error {
	c, err := w.Kind()
	switch {
	case err != nil:
		return err
	case c == 'n':
		return w.Literal()
	case c != '{':
		w.fail(typeError(c, reflect.TypeFor[VisuraSummary](), ""))
		return w.Skip()
	}
	return w.Object(func(key []byte) error {
		var buf foldBuf
		switch name := buf.fold(key); string(name) {
		case "nome_visura":
			return w.stringField(&v.NomeVisura, "nome_visura")
		case "nome_categoria":
			return w.stringField(&v.NomeCategoria, "nome_categoria")
		case "hash_visura":
			return w.stringField(&v.HashVisura, "hash_visura")
		}
		return w.Skip()
	})
}

// stringField reads a string into dst as encoding/json does: null leaves
// it, another type is a problem.
func (w *wireReader) stringField(dst *string, field string) error {
	wrong, err := w.readString(dst)
	if wrong != 0 {
		w.fail(typeError(wrong, reflect.TypeFor[string](), field))
	}
	return err
}

// readString reads a string into dst: null leaves it, and a value of
// another kind is skipped and its kind returned, for the caller to report
// its own way (stringField, visuraReader.str).
func (w *wireReader) readString(dst *string) (wrong byte, err error) {
	c, err := w.Kind()
	switch {
	case err != nil:
		return 0, err
	case c == '"':
		*dst, err = w.String()
		return 0, err
	case c != 'n':
		wrong = c
	}
	return wrong, w.Skip()
}

// GetVisura returns one service's fields, rule, options and prices (GET
// /visure/{hash}). An unknown hash is an *APIError matching ErrNotFound
// (Visengine answers it with 400 and CodeWrongHash, so it matches
// ErrInvalidRequest too).
func (c *Client) GetVisura(ctx context.Context, hash string) (*Visura, error) {
	if err := checkHash(hash); err != nil {
		return nil, err
	}
	var v Visura
	if err := c.call(ctx, http.MethodGet, "/visure/"+hash, nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// checkHash accepts the characters hashes use: they are opaque 32-character
// strings, mostly hex but not always ("afa0b4cu7yd0…"), so only letters and
// digits are required.
func checkHash(hash string) error {
	if hash == "" {
		return invalidArg("hash", "is empty")
	}
	if len(hash) > 64 {
		return invalidArg("hash", "is longer than 64 characters")
	}
	for i := 0; i < len(hash); i++ {
		if c := hash[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return invalidArg("hash", "has a character other than a letter or digit")
		}
	}
	return nil
}

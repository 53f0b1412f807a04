package visengine

import (
	"encoding/base64"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/visengine-go/visengine/internal/itcheck"
)

// DefaultMaxFileSize is the largest decoded file Validate accepts unless
// WithMaxFileSize says otherwise.
const DefaultMaxFileSize = 10 << 20

// Values are the field values of a request, by key ("$0" → "Mario"): the
// json_visura of POST /richiesta. An empty or blank value counts as not
// filled.
type Values map[string]string

// Format prints the keys with their values hidden, for every verb: values
// are personal data and must not reach logs through %v or %+v. Keys not of
// the form "$N" are only counted, since one may be a value put where a key
// goes.
func (vs Values) Format(f fmt.State, _ rune) {
	keys, hidden := splitKeys(vs)
	if len(hidden) > 0 {
		keys = append(keys, fmt.Sprintf("(%d not of the form $N)", len(hidden)))
	}
	fmt.Fprintf(f, "visengine.Values{%d keys: %s}", len(vs), strings.Join(keys, " "))
}

// Set stores value under key ("$3").
func (vs Values) Set(key, value string) { vs[key] = value }

// SetField stores value under the key of the field named name in v (compared
// without regard to case or surrounding blanks, e.g. "CELLULARE"), so code
// can follow the labels users see. A name that is not a field of v is an
// ErrInvalidArgument listing v's field names, the closest first
// ([Visura.FieldNamesClosest]); the error does not repeat the name (it
// could be a value passed in the wrong place), except for a key such as "$9". A nil Values
// or Visura is an ErrInvalidArgument too.
func (vs Values) SetField(v *Visura, name, value string) error {
	switch {
	case vs == nil:
		return invalidArg("values", "is a nil map")
	case v == nil:
		return invalidArg("visura", "is nil")
	}
	f, ok := v.Field(name)
	if !ok {
		if looksLikeKey(name) {
			return invalidArg("field", fmt.Sprintf("%q is not a field of this service", name)+fieldNamesText(v, name))
		}
		return invalidArg("field", "name given is not a field of this service (not shown: it may be a value)"+fieldNamesText(v, name))
	}
	vs[f.Key] = value
	return nil
}

// FileValue builds the inline form Visengine expects for a file field,
// name|data:<mime>;base64,<content>. It does not check its arguments
// (Validate does); FileValueBase64 does, for content already in base64.
func FileValue(name, mime string, content []byte) string {
	return name + "|data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(content)
}

// FileValueBase64 builds the inline form of a file field, like [FileValue],
// from content that is already standard base64, as intake forms send it.
// The base64 is checked in one pass and never decoded. It refuses an empty
// name or one holding "|", control or format characters; a MIME type that is
// not type/subtype (no parameters, no "|" or ";"); and content that is empty
// or not padded standard base64 (no line breaks, not the URL alphabet). The
// errors match [ErrInvalidArgument] and never contain the arguments. The size
// is left to [Visura.Validate] ([DefaultMaxFileSize], [WithMaxFileSize]).
func FileValueBase64(name, mime, b64 string) (string, error) {
	err := itcheck.FileName(name)
	if err == nil {
		err = itcheck.MIME(mime)
	}
	if err == nil {
		err = itcheck.FileContent(b64, math.MaxInt64)
	}
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidArgument, err)
	}
	return name + "|data:" + mime + ";base64," + b64, nil
}

// ValidateOption adjusts Validate.
type ValidateOption func(*validateConfig)

type validateConfig struct {
	strict      bool
	maxFileSize int64
}

// WithStrict makes Validate fail with ErrRuleUnsupported when the document's
// rule cannot be checked locally, instead of leaving presence to the server.
func WithStrict() ValidateOption { return func(c *validateConfig) { c.strict = true } }

// WithMaxFileSize sets the largest decoded size of a file field, in bytes.
func WithMaxFileSize(n int64) ValidateOption { return func(c *validateConfig) { c.maxFileSize = n } }

// Validate checks values against the document before anything is paid: the
// validazione rule over the filled fields (non-empty after TrimSpace) and the
// format of every filled field by its tipo (codice fiscale, partita IVA,
// e-mail, dates, comune, provincia, files; unknown tipos are accepted). It
// returns nil or a *ValidationError with every problem at once
// ([ValidationError.Problems] lists them for an API answer). Nil values are
// nothing filled; a nil Visura is an ErrInvalidArgument.
//
// A rule that cannot be checked locally (it does not parse, or names a field
// the document lacks) does not block, as the server will judge it; with
// WithStrict it is an error wrapping ErrRuleUnsupported.
func (v *Visura) Validate(values Values, opts ...ValidateOption) error {
	if v == nil {
		return invalidArg("visura", "is nil")
	}
	cfg := validateConfig{maxFileSize: DefaultMaxFileSize}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	e := &ValidationError{}
	var present FieldSet
	for k, val := range values {
		c, ok := v.JSONStruttura.Campi[k]
		switch {
		case !ok && looksLikeKey(k):
			e.UnknownKeys = append(e.UnknownKeys, k)
		case !ok:
			e.UnknownKeys = append(e.UnknownKeys, hiddenKey)
		case strings.TrimSpace(val) != "":
			present.Add(k)
			if err := checkFormat(c.Tipo, val, cfg.maxFileSize); err != nil {
				c.Key = k
				e.Invalid = append(e.Invalid, problemOf(c, val, err))
			}
		}
	}
	v.checkRule(e, present, cfg.strict)
	if e.Missing == nil && len(e.Invalid) == 0 && len(e.UnknownKeys) == 0 && e.Rule == nil {
		return nil
	}
	slices.SortFunc(e.UnknownKeys, compareFieldKeys)
	slices.SortFunc(e.Invalid, func(a, b Problem) int { return compareFieldKeys(a.Key, b.Key) })
	return e
}

// checkRule evaluates the rule and fills e.Missing (or e.Rule under strict).
func (v *Visura) checkRule(e *ValidationError, present FieldSet, strict bool) {
	r, err := v.Rule()
	if err != nil {
		if strict {
			e.Rule = &ruleUnsupportedError{cause: err}
		}
		return
	}
	if r.Eval(present) {
		return
	}
	x := r.Explain(present)
	e.Missing = &x
	e.Names = make(map[string]string, len(r.keys))
	for _, k := range r.keys {
		e.Names[k] = v.JSONStruttura.Campi[k].Nome
	}
}

// UnknownFieldError reports a rule that names a key the document's campi
// lack.
type UnknownFieldError struct {
	Key string // e.g. "$9"
}

// Error implements error.
func (e *UnknownFieldError) Error() string {
	if e == nil {
		return "visengine: <nil UnknownFieldError>"
	}
	return fmt.Sprintf("visengine: validazione names %s, which is not a field of the document", e.Key)
}

// Rule returns the document's compiled validazione rule: compiled once when
// the Visura was decoded (or now, for a Visura built in code). The error is a
// *RuleSyntaxError or an *UnknownFieldError (ErrInvalidArgument for a nil
// Visura).
func (v *Visura) Rule() (*Rule, error) {
	if v == nil {
		return nil, invalidArg("visura", "is nil")
	}
	s := &v.JSONStruttura
	c := s.compiled
	if c == nil || c.src != s.Validazione {
		c = compileRule(s.Validazione)
	}
	if c.err != nil {
		return nil, c.err
	}
	for _, k := range c.rule.keys {
		if _, ok := s.Campi[k]; !ok {
			return nil, &UnknownFieldError{Key: k}
		}
	}
	return c.rule, nil
}

// compiledRule is a parsed Validazione with the text it came from, so a
// Struttura changed after decoding is not checked against a stale rule.
type compiledRule struct {
	src  string
	rule *Rule
	err  error
}

func compileRule(src string) *compiledRule {
	r, err := ParseRule(src)
	return &compiledRule{src: src, rule: r, err: err}
}

// checkFormat returns one of itcheck's reasons when val is malformed for
// tipo, or nil; unknown tipos are accepted.
func checkFormat(tipo, val string, maxFile int64) error {
	switch tipo {
	case "codice_fiscale_persona_fisica":
		return itcheck.CodiceFiscalePersona(val)
	case "codice_fiscale":
		return itcheck.CodiceFiscale(val)
	case "partita_iva":
		return itcheck.PartitaIVA(val)
	case "email":
		return itcheck.Email(val)
	case "cod_comune":
		return itcheck.CodComune(val)
	case "cod_provincia":
		return itcheck.CodProvincia(val)
	case "data_iso8601":
		return itcheck.Date(val)
	case "file":
		return itcheck.FileValue(val, maxFile)
	}
	return nil
}

// looksLikeKey reports whether k is "$" and 1 to 4 digits, a key that can be
// shown in errors (any other text may be a value put where a key goes).
func looksLikeKey(k string) bool {
	return len(k) >= 2 && len(k) <= 5 && k[0] == '$' && allDigits(k[1:])
}

package visengine

import (
	"encoding/base64"
	"fmt"
	"slices"
	"sort"
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
// are personal data and must not reach logs through %v or %+v.
func (vs Values) Format(f fmt.State, _ rune) {
	keys := make([]string, 0, len(vs))
	for k := range vs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(f, "visengine.Values{%d keys: %s}", len(keys), strings.Join(keys, " "))
}

// Set stores value under key ("$3").
func (vs Values) Set(key, value string) { vs[key] = value }

// SetField stores value under the key of the field named name in v (compared
// without regard to case or surrounding blanks, e.g. "CELLULARE"), so code
// can follow the labels users see. An unknown name is an ErrInvalidArgument.
func (vs Values) SetField(v *Visura, name, value string) error {
	if vs == nil {
		return invalidArg("values", "are nil (make them with Values{})")
	}
	f, ok := v.Field(name)
	if !ok {
		return invalidArg("field", fmt.Sprintf("%q is not a field of this document", name))
	}
	vs[f.Key] = value
	return nil
}

// FileValue builds the inline form Visengine expects for a file field:
// name|data:<mime>;base64,<content>.
func FileValue(name, mime string, content []byte) string {
	return name + "|data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(content)
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

// FieldError is a filled field whose value is malformed. It never holds the
// value.
type FieldError struct {
	Key    string // "$4"
	Nome   string // the field's label, e.g. "CODICE FISCALE"
	Tipo   string // e.g. "codice_fiscale_persona_fisica"
	Reason string // what is wrong, in English
}

// ValidationError lists everything wrong with a set of values at once: what
// is missing for the rule, every malformed filled field and every unknown
// key. It never contains field values, so it is safe to log.
type ValidationError struct {
	// Missing explains what the rule still needs; nil when the rule holds or
	// could not be checked.
	Missing *Explanation
	// Names maps the keys in Missing to the fields' labels.
	Names map[string]string
	// Invalid lists the malformed filled fields, by key number.
	Invalid []FieldError
	// UnknownKeys lists keys that are not fields of the document, verbatim:
	// a value put where a key goes shows up here, so do not log the slice.
	// Error names only the keys that look like "$N" and counts the others.
	UnknownKeys []string
	// Rule is set, with WithStrict, when the rule could not be checked; it wraps
	// ErrRuleUnsupported and the cause (e.g. a *RuleSyntaxError).
	Rule error
}

// Error summarises the problems on one line, with labels and keys only.
func (e *ValidationError) Error() string {
	if e == nil {
		return "visengine: <nil ValidationError>"
	}
	var parts []string
	if e.Rule != nil {
		parts = append(parts, e.Rule.Error())
	}
	if e.Missing != nil {
		parts = append(parts, e.missingText())
	}
	for _, f := range e.Invalid {
		parts = append(parts, fmt.Sprintf("«%s» (%s): %s", f.Nome, f.Key, f.Reason))
	}
	if len(e.UnknownKeys) > 0 {
		parts = append(parts, unknownKeysText(e.UnknownKeys))
	}
	return ErrInvalidFields.Error() + ": " + strings.Join(parts, "; ")
}

// unknownKeysText names the unknown keys that look like keys ("$12") and
// only counts the others: a key that is not of that form may be a value put
// where a key goes (Values{"RSSMRA85M01H501Q": "$4"}), which must not reach
// a log through the error.
func unknownKeysText(keys []string) string {
	var named []string
	others := 0
	for _, k := range keys {
		if looksLikeKey(k) {
			named = append(named, fmt.Sprintf("%q", k))
		} else {
			others++
		}
	}
	var b strings.Builder
	b.WriteString("unknown keys")
	if len(named) > 0 {
		b.WriteString(" " + strings.Join(named, ", "))
	}
	switch {
	case others > 0 && len(named) > 0:
		fmt.Fprintf(&b, " and %d other(s) not of the form $N", others)
	case others > 0:
		fmt.Fprintf(&b, ": %d not of the form $N", others)
	}
	return b.String()
}

// looksLikeKey reports whether k is "$" and 1 to 4 digits.
func looksLikeKey(k string) bool {
	return len(k) >= 2 && len(k) <= 5 && k[0] == '$' && allDigits(k[1:])
}

// missingText renders Missing: required fields first ("manca «X» ($4)"),
// then the alternatives left, if any.
func (e *ValidationError) missingText() string {
	m := e.Missing
	var b strings.Builder
	for i, k := range m.Required {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "manca %s", e.label(k))
	}
	var alts []string
	for _, o := range m.Alternatives {
		var rest []string
		for _, k := range o {
			if !slices.Contains(m.Required, k) {
				rest = append(rest, e.label(k))
			}
		}
		if len(rest) > 0 {
			alts = append(alts, "{"+strings.Join(rest, ", ")+"}")
		}
	}
	if len(alts) > 0 {
		if b.Len() > 0 {
			b.WriteString(" e ")
		}
		b.WriteString("serve uno tra " + strings.Join(alts, " | "))
	}
	if m.Truncated {
		b.WriteString(" (one of many possibilities shown)")
	}
	return b.String()
}

func (e *ValidationError) label(key string) string {
	return fmt.Sprintf("«%s» (%s)", e.Names[key], key)
}

// Is matches ErrInvalidFields when fields are missing, malformed or unknown,
// and ErrRuleUnsupported when the rule could not be checked under WithStrict.
func (e *ValidationError) Is(target error) bool {
	switch target {
	case ErrInvalidFields:
		return e.Missing != nil || len(e.Invalid) > 0 || len(e.UnknownKeys) > 0
	case ErrRuleUnsupported:
		return e.Rule != nil
	}
	return false
}

// Unwrap gives the rule problem, so errors.As finds a *RuleSyntaxError.
func (e *ValidationError) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Rule
}

// Validate checks values against the document before anything is paid: the
// validazione rule over the filled fields (non-empty after TrimSpace) and the
// format of every filled field by its tipo (codice fiscale, partita IVA,
// e-mail, dates, comune, provincia, files; unknown tipos are accepted). It
// returns nil or a *ValidationError with every problem at once.
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
		o(&cfg)
	}
	campi := v.JSONStruttura.Campi
	e := &ValidationError{}
	var present FieldSet
	for k, val := range values {
		c, ok := campi[k]
		if !ok {
			e.UnknownKeys = append(e.UnknownKeys, k)
			continue
		}
		if strings.TrimSpace(val) == "" {
			continue
		}
		present.Add(k)
		if reason := checkFormat(c.Tipo, val, cfg.maxFileSize); reason != "" {
			e.Invalid = append(e.Invalid, FieldError{Key: k, Nome: c.Nome, Tipo: c.Tipo, Reason: reason})
		}
	}
	v.checkRule(e, present, cfg.strict)
	if e.Missing == nil && len(e.Invalid) == 0 && len(e.UnknownKeys) == 0 && e.Rule == nil {
		return nil
	}
	slices.SortFunc(e.UnknownKeys, strings.Compare)
	slices.SortFunc(e.Invalid, func(a, b FieldError) int { return compareKeys(a.Key, b.Key) })
	return e
}

// checkRule evaluates the rule and fills e.Missing (or e.Rule under strict).
func (v *Visura) checkRule(e *ValidationError, present FieldSet, strict bool) {
	r, err := v.Rule()
	if err != nil {
		if strict {
			e.Rule = fmt.Errorf("%w: %w", ErrRuleUnsupported, err)
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
// *RuleSyntaxError or an *UnknownFieldError.
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

// checkFormat returns why val is malformed for tipo, or "".
func checkFormat(tipo, val string, maxFile int64) string {
	var err error
	switch tipo {
	case "codice_fiscale_persona_fisica":
		err = itcheck.CodiceFiscalePersona(val)
	case "codice_fiscale":
		err = itcheck.CodiceFiscale(val)
	case "partita_iva":
		err = itcheck.PartitaIVA(val)
	case "email":
		err = itcheck.Email(val)
	case "cod_comune":
		err = itcheck.CodComune(val)
	case "cod_provincia":
		err = itcheck.CodProvincia(val)
	case "data_iso8601":
		err = itcheck.Date(val)
	case "file":
		err = itcheck.FileValue(val, maxFile)
	default:
		return ""
	}
	if err == nil {
		return ""
	}
	if strings.TrimSpace(val) != val {
		return "has leading or trailing blanks"
	}
	return err.Error()
}

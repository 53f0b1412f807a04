package form

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/visengine-go/visengine"
)

// Field is one control of the form, as the templates see it.
type Field struct {
	Key      string // the field's key, "$3"
	ID       string // the control's id and name, "f3"
	Name     string // the label, Visengine's nome ("CELLULARE")
	Hint     string // Visengine's istruzioni, "" when absent
	Tipo     string // Visengine's tipo ("codice_fiscale_persona_fisica")
	Type     string // the input type: text, email, tel, date or file
	Required bool   // needed by every alternative of the rule
	InGroup  bool   // needed by some alternatives only
	// Pattern, MaxLength, InputMode, Autocomplete and Accept are the
	// control's attributes for its tipo, "" or 0 when none applies.
	Pattern      string
	MaxLength    int
	InputMode    string
	Autocomplete string
	Accept       string
	MaxSize      int64  // largest file, bytes (files only)
	MaxSizeText  string // MaxSize for people, "10 MB"
	Value        string // the value entered, kept after a refused post (never a file)
	Error        string // what is wrong with it, in the page's language
	ErrorCode    string // the visengine.ProblemCode, for styling
}

// File reports whether the field takes a file.
func (f Field) File() bool { return f.Type == "file" }

// HintID is the id of the field's hint, for aria-describedby.
func (f Field) HintID() string { return f.ID + "-hint" }

// ErrorID is the id of the field's error message, for aria-describedby.
func (f Field) ErrorID() string { return f.ID + "-error" }

// DescribedBy lists the ids that describe the control.
func (f Field) DescribedBy() string {
	ids := []string{f.ErrorID()}
	if f.Hint != "" || f.File() {
		ids = append([]string{f.HintID()}, ids...)
	}
	return strings.Join(ids, " ")
}

// fieldID is a control's id: "f" and the key's number, or "x" and the
// display position for a key not of the form $N.
func fieldID(key string, pos int) string {
	if len(key) > 1 && key[0] == '$' && strings.Trim(key[1:], "0123456789") == "" {
		return "f" + key[1:]
	}
	return fmt.Sprintf("x%d", pos)
}

// structure is what New computes once from the Visura: the fields in
// display order, the rule's alternatives and the script's configuration.
type structure struct {
	fields    []Field
	byID      map[string]int // control id → index in fields
	explain   map[visengine.Lang]string
	several   bool   // the rule has more than one alternative
	config    string // JSON for the script
	nameByKey map[string]string
}

// newStructure lays out v's fields for the form.
func newStructure(v *visengine.Visura, limits Limits, accept string) (*structure, error) {
	s := &structure{byID: map[string]int{}, explain: map[visengine.Lang]string{}, nameByKey: map[string]string{}}
	for i, c := range v.Fields() {
		f := controlFor(c, i, limits, accept)
		s.byID[f.ID] = len(s.fields)
		s.fields = append(s.fields, f)
		s.nameByKey[c.Key] = c.Nome
	}
	var alts [][]string
	if r, err := v.Rule(); err == nil {
		x := r.Explain(visengine.FieldSet{})
		s.mark(x)
		s.several = len(x.Alternatives) > 1
		for _, l := range visengine.Langs() {
			s.explain[l] = x.Describe(l, s.nameByKey)
		}
		if !x.Truncated {
			alts = x.Alternatives
		}
	}
	cfg, err := s.scriptConfig(alts, limits)
	if err != nil {
		return nil, err
	}
	s.config = cfg
	return s, nil
}

// mark sets Required on the keys every alternative needs and InGroup on
// the others the rule names.
func (s *structure) mark(x visengine.Explanation) {
	for i := range s.fields {
		f := &s.fields[i]
		f.Required = slices.Contains(x.Required, f.Key)
		for _, alt := range x.Alternatives {
			if !f.Required && slices.Contains(alt, f.Key) {
				f.InGroup = true
			}
		}
	}
}

// scriptConfig is the JSON the page's script reads: each control's tipo,
// the rule's alternatives by control id (none when the rule cannot be
// listed: the server alone checks it then), the file size limit and the
// problem messages of both languages.
func (s *structure) scriptConfig(alts [][]string, limits Limits) (string, error) {
	idOf := map[string]string{}
	tipos := map[string]string{}
	for _, f := range s.fields {
		idOf[f.Key] = f.ID
		tipos[f.ID] = f.Tipo
	}
	var ids [][]string
	for _, alt := range alts {
		var a []string
		for _, k := range alt {
			a = append(a, idOf[k])
		}
		ids = append(ids, a)
	}
	msgs := map[string]map[string]string{}
	for _, l := range visengine.Langs() {
		m := map[string]string{}
		for _, c := range visengine.ProblemCodes() {
			m[string(c)] = c.Message(l)
		}
		m["summary"] = texts(l)["errorSummary"]
		msgs[string(l)] = m
	}
	b, err := json.Marshal(map[string]any{"tipos": tipos, "alternatives": ids,
		"maxFileSize": limits.MaxFileSize, "messages": msgs})
	return string(b), err
}

// controlFor chooses the control of field c at display position pos.
func controlFor(c visengine.Campo, pos int, limits Limits, accept string) Field {
	f := Field{Key: c.Key, ID: fieldID(c.Key, pos), Name: c.Nome, Hint: strings.TrimSpace(c.Istruzioni),
		Tipo: c.Tipo, Type: "text"}
	switch c.Tipo {
	case "email":
		f.Type, f.Autocomplete = "email", "email"
	case "data_iso8601":
		f.Type = "date"
	case "codice_fiscale_persona_fisica":
		f.Pattern, f.MaxLength, f.Autocomplete = "[A-Za-z0-9]{16}", 16, "off"
	case "codice_fiscale":
		f.Pattern, f.MaxLength, f.Autocomplete = "[A-Za-z0-9]{16}|[0-9]{11}", 16, "off"
	case "partita_iva":
		f.Pattern, f.MaxLength, f.InputMode = "[0-9]{11}|[A-Za-z0-9]{16}", 16, "numeric"
	case "cod_comune":
		f.Pattern, f.MaxLength = "[A-Za-z][0-9]{3}", 4
	case "cod_provincia":
		f.Pattern, f.MaxLength = "[A-Za-z]{2}", 2
	case "file":
		f.Type, f.Accept, f.MaxSize = "file", accept, limits.MaxFileSize
		f.MaxSizeText = sizeText(limits.MaxFileSize)
	case "telefono", "cellulare", "tel":
		f.Type, f.Autocomplete, f.InputMode = "tel", "tel", "tel"
	default:
		if looksLikePhone(c.Nome) {
			f.Type, f.Autocomplete = "tel", "tel"
		}
	}
	return f
}

// looksLikePhone reports whether a text field's label names a phone
// number (A2's "CELLULARE" is tipo testo).
func looksLikePhone(nome string) bool {
	n := strings.ToUpper(nome)
	return strings.Contains(n, "CELLULARE") || strings.Contains(n, "TELEFONO")
}

// sizeText writes n bytes for people: "10 MB", "512 KB".
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

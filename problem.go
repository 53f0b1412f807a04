package visengine

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/visengine-go/visengine/internal/itcheck"
)

// ProblemCode is a stable, machine-readable name for what is wrong with an
// applicant's values, for programs: a form that highlights a field, a
// translation of the message. New codes may be added; a code never changes
// its meaning.
type ProblemCode string

// Problem codes. Those about the rule or the keys come first, then one per
// kind of malformed value.
const (
	// ProblemCodeMissing: the rule needs this field whatever the applicant
	// chooses, and it is not filled.
	ProblemCodeMissing ProblemCode = "missing"
	// ProblemCodeOneOfMissing: the rule needs one of several groups of
	// fields, none of them complete, and this field is in one of them; the
	// Reason lists the groups.
	ProblemCodeOneOfMissing ProblemCode = "one_of_missing"
	// ProblemCodeUnknownKey: a value was given under a key that is not a
	// field of the service.
	ProblemCodeUnknownKey ProblemCode = "unknown_key"
	// ProblemCodeRuleUnsupported: the service's rule could not be checked
	// locally (reported only with [WithStrict]); the Key is "".
	ProblemCodeRuleUnsupported ProblemCode = "rule_unsupported"
	// ProblemCodeBlankAround: the value is malformed and has leading or
	// trailing blanks; trimming them may be all it needs.
	ProblemCodeBlankAround ProblemCode = "blank_around"
	// ProblemCodeBadLength: the value has the wrong number of characters
	// (a codice fiscale has 16, a partita IVA 11).
	ProblemCodeBadLength ProblemCode = "bad_length"
	// ProblemCodeBadFormat: the value has characters or a layout its type
	// does not allow (codice fiscale, partita IVA, codice comune, sigla
	// provincia, or a file not written name|data:<type>;base64,<content>).
	ProblemCodeBadFormat ProblemCode = "bad_format"
	// ProblemCodeCheckChar: the check character of a codice fiscale or the
	// check digit of a partita IVA does not match the rest: most likely a
	// typo.
	ProblemCodeCheckChar ProblemCode = "check_char"
	// ProblemCodeBadBirthDate: the birth date written in a codice fiscale
	// (month letter, day) does not exist.
	ProblemCodeBadBirthDate ProblemCode = "bad_birth_date"
	// ProblemCodeBadDate: not a real calendar date written DD-MM-YYYY or
	// YYYY-MM-DD.
	ProblemCodeBadDate ProblemCode = "bad_date"
	// ProblemCodeBadEmail: not a bare e-mail address.
	ProblemCodeBadEmail ProblemCode = "bad_email"
	// ProblemCodeBadFileName: a file's name is empty or holds "|", control
	// or format characters.
	ProblemCodeBadFileName ProblemCode = "bad_file_name"
	// ProblemCodeBadMIMEType: a file's MIME type is not type/subtype.
	ProblemCodeBadMIMEType ProblemCode = "bad_mime_type"
	// ProblemCodeEmptyFile: a file has no content.
	ProblemCodeEmptyFile ProblemCode = "empty_file"
	// ProblemCodeTooLarge: a file is larger than the limit
	// ([DefaultMaxFileSize] or [WithMaxFileSize]).
	ProblemCodeTooLarge ProblemCode = "too_large"
	// ProblemCodeBadBase64: a file's content is not padded standard base64
	// (no line breaks, not the URL alphabet).
	ProblemCodeBadBase64 ProblemCode = "bad_base64"
)

// Problem is one thing wrong with an applicant's values, ready to hand back
// to the form that sent them (for example in the body of a 422 answer):
// which field, a stable code and a sentence in English. It never holds a
// value.
type Problem struct {
	// Key is the field's key ("$4"). It is "" for a problem with the rule
	// itself, and "?" for an unknown key that is not of the form "$N": such a
	// key is not shown because it may be a value put where a key goes.
	Key string `json:"key"`
	// Name is the field's label as Visengine spells it ("CODICE FISCALE"),
	// or "" when Key is not a field of the service.
	Name string `json:"name"`
	// Code says what is wrong, for programs.
	Code ProblemCode `json:"code"`
	// Reason says what is wrong, for people, in English; Message gives it
	// in another language, and ValidationError.ProblemsIn the whole list.
	Reason string `json:"reason"`
}

// hiddenKey stands for an unknown key that is not of the form "$N".
const hiddenKey = "?"

// ValidationError is what Validate returns when values are not ready to be
// paid for: every field the rule still needs, every malformed filled field
// and every unknown key, at once. [ValidationError.Problems] gives them as
// one list for an API answer. It never contains field values, so it is safe to log.
type ValidationError struct {
	// Missing explains what the rule still needs; nil when the rule holds or
	// could not be checked.
	Missing *Explanation
	// Names maps the keys of the rule (those in Missing among them) to the
	// fields' labels.
	Names map[string]string
	// Invalid lists the malformed filled fields by key number, each with its
	// code and reason.
	Invalid []Problem
	// UnknownKeys lists the keys that are not fields of the service, by key
	// number. A key not of the form "$N" is listed as "?" (last), because it
	// may be a value put where a key goes.
	UnknownKeys []string
	// Rule is set, with WithStrict, when the rule could not be checked; it
	// wraps ErrRuleUnsupported and the cause (e.g. a *RuleSyntaxError).
	Rule error
}

// Problems lists every problem as one flat list, for an API answer: the
// rule's own problem first (only with WithStrict), then the fields by key
// number (missing, needed as one of a group, malformed), then the unknown
// keys. A field appears once however many groups of the rule it is in.
func (e *ValidationError) Problems() []Problem {
	if e == nil {
		return nil
	}
	var out []Problem
	if e.Rule != nil {
		out = append(out, Problem{Code: ProblemCodeRuleUnsupported,
			Reason: "the service's rule cannot be checked locally: " + trimPrefix(causeOf(e.Rule))})
	}
	fields := append(e.missingProblems(), e.Invalid...)
	slices.SortStableFunc(fields, func(a, b Problem) int { return compareFieldKeys(a.Key, b.Key) })
	out = append(out, fields...)
	for _, k := range e.UnknownKeys {
		reason := "not a field of this service"
		if k == hiddenKey {
			reason += `; the key is not of the form $N and is not shown, as it may be a value`
		}
		out = append(out, Problem{Key: k, Code: ProblemCodeUnknownKey, Reason: reason})
	}
	return out
}

// missingProblems turns Missing into one problem per key: missing for the
// keys every alternative needs, one_of_missing for the others.
func (e *ValidationError) missingProblems() []Problem {
	if e.Missing == nil {
		return nil
	}
	var out []Problem
	for _, k := range e.Missing.Required {
		out = append(out, Problem{Key: k, Name: e.Names[k], Code: ProblemCodeMissing, Reason: "required and not filled"})
	}
	groups, keys := e.choices()
	for _, k := range keys {
		out = append(out, Problem{Key: k, Name: e.Names[k], Code: ProblemCodeOneOfMissing,
			Reason: "not filled; the rule needs one of " + groups})
	}
	return out
}

// choices renders the alternatives of Missing without their required keys,
// as {"A" ($1)} | {"B" ($2), "C" ($3)}, and lists the keys they mention, by
// number. Both are empty when only required keys are missing.
func (e *ValidationError) choices() (string, []string) {
	m := e.Missing
	var groups, keys []string
	for _, alt := range m.Alternatives {
		var rest []string
		for _, k := range alt {
			if !slices.Contains(m.Required, k) {
				rest = append(rest, e.label(k))
				keys = append(keys, k)
			}
		}
		if len(rest) > 0 {
			groups = append(groups, "{"+strings.Join(rest, ", ")+"}")
		}
	}
	if len(groups) == 0 {
		return "", nil
	}
	text := strings.Join(groups, " | ")
	if m.Truncated {
		text += " (one of many possibilities shown)"
	}
	slices.SortFunc(keys, compareFieldKeys)
	return text, slices.Compact(keys)
}

// Error says what is wrong on one line, in English, with the fields' labels
// quoted as Visengine spells them and their keys, never a value: for
// example `visengine: invalid fields: missing "CELLULARE" ($3)`.
func (e *ValidationError) Error() string {
	if e == nil {
		return "visengine: <nil ValidationError>"
	}
	var parts []string
	if e.Missing != nil {
		parts = append(parts, e.missingText())
	}
	for _, p := range e.Invalid {
		parts = append(parts, fmt.Sprintf("%q (%s): %s", p.Name, p.Key, p.Reason))
	}
	if len(e.UnknownKeys) > 0 {
		parts = append(parts, unknownKeysText(e.UnknownKeys))
	}
	if e.Rule != nil {
		if len(parts) == 0 {
			return e.Rule.Error()
		}
		parts = append(parts, trimPrefix(e.Rule.Error()))
	}
	return ErrInvalidFields.Error() + ": " + strings.Join(parts, "; ")
}

// missingText renders Missing: `missing "A" ($1), "B" ($2) and one of
// {"C" ($3)} | {"D" ($4)}`.
func (e *ValidationError) missingText() string {
	labels := make([]string, len(e.Missing.Required))
	for i, k := range e.Missing.Required {
		labels[i] = e.label(k)
	}
	text := "missing " + strings.Join(labels, ", ")
	groups, _ := e.choices()
	switch {
	case groups == "":
		return text
	case len(labels) == 0:
		return "missing one of " + groups
	}
	return text + " and one of " + groups
}

func (e *ValidationError) label(key string) string {
	return fmt.Sprintf("%q (%s)", e.Names[key], key)
}

// unknownKeysText names the unknown keys of the form "$N" and counts the
// hidden ones.
func unknownKeysText(keys []string) string {
	var named []string
	hidden := 0
	for _, k := range keys {
		if k == hiddenKey {
			hidden++
		} else {
			named = append(named, fmt.Sprintf("%q", k))
		}
	}
	text := "unknown keys"
	if len(named) > 0 {
		text += " " + strings.Join(named, ", ")
	}
	switch {
	case hidden > 0 && len(named) > 0:
		text += fmt.Sprintf(" and %d other(s) not of the form $N", hidden)
	case hidden > 0:
		text += fmt.Sprintf(": %d not of the form $N", hidden)
	}
	return text
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

// ruleUnsupportedError is ValidationError.Rule: ErrRuleUnsupported with its
// cause, printed with one "visengine: " prefix.
type ruleUnsupportedError struct{ cause error }

func (e *ruleUnsupportedError) Error() string {
	return ErrRuleUnsupported.Error() + ": " + trimPrefix(e.cause.Error())
}

func (e *ruleUnsupportedError) Unwrap() []error { return []error{ErrRuleUnsupported, e.cause} }

// causeOf returns the cause of a ruleUnsupportedError's text, or err's.
func causeOf(err error) string {
	if r, ok := err.(*ruleUnsupportedError); ok {
		return r.cause.Error()
	}
	return err.Error()
}

func trimPrefix(msg string) string { return strings.TrimPrefix(msg, "visengine: ") }

// compareFieldKeys orders keys by their number; keys without one ("?",
// "$01x") come last, by text.
func compareFieldKeys(a, b string) int {
	ia, ib := keyIndex(a), keyIndex(b)
	if (ia < 0) != (ib < 0) {
		return cmp.Compare(ib, ia) // the one with a number first
	}
	return cmp.Or(cmp.Compare(ia, ib), strings.Compare(a, b))
}

// problemOf turns a failed format check into a problem of field c. A value
// with blanks around it is reported as such whatever the check said, since
// trimming may be all it needs.
func problemOf(c Campo, val string, err error) Problem {
	p := Problem{Key: c.Key, Name: c.Nome, Code: codeOf(itcheck.KindOf(err)), Reason: err.Error()}
	if strings.TrimSpace(val) != val {
		p.Code, p.Reason = ProblemCodeBlankAround, "has leading or trailing blanks"
	}
	return p
}

// codeOf maps the kinds of itcheck's reasons to problem codes.
func codeOf(k itcheck.Kind) ProblemCode {
	switch k {
	case itcheck.KindLength:
		return ProblemCodeBadLength
	case itcheck.KindCheck:
		return ProblemCodeCheckChar
	case itcheck.KindBirthDate:
		return ProblemCodeBadBirthDate
	case itcheck.KindDate:
		return ProblemCodeBadDate
	case itcheck.KindEmail:
		return ProblemCodeBadEmail
	case itcheck.KindFileName:
		return ProblemCodeBadFileName
	case itcheck.KindMIME:
		return ProblemCodeBadMIMEType
	case itcheck.KindEmpty:
		return ProblemCodeEmptyFile
	case itcheck.KindTooLarge:
		return ProblemCodeTooLarge
	case itcheck.KindBase64:
		return ProblemCodeBadBase64
	}
	return ProblemCodeBadFormat
}

package visengine

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// problemMessages holds, per language, the sentence for each ProblemCode.
// The English table matches the Reason of the problems whose Reason is
// fixed; ProblemCodeOneOfMissing's sentence with the groups spelled out is
// in problemWords.
var problemMessages = map[Lang]map[ProblemCode]string{
	Italian: {
		ProblemCodeMissing:         "obbligatorio: non è compilato",
		ProblemCodeOneOfMissing:    "non è compilato; la regola del servizio chiede uno tra più gruppi di campi alternativi",
		ProblemCodeUnknownKey:      "non è un campo di questo servizio",
		ProblemCodeRuleUnsupported: "la regola del servizio non si può verificare qui; la verificherà Visengine",
		ProblemCodeBlankAround:     "ha spazi all'inizio o alla fine",
		ProblemCodeBadLength:       "ha un numero di caratteri sbagliato (un codice fiscale ne ha 16, una partita IVA 11 cifre)",
		ProblemCodeBadFormat:       "contiene caratteri o una forma che il suo tipo non ammette",
		ProblemCodeCheckChar:       "il carattere di controllo non corrisponde al resto: probabilmente un errore di battitura",
		ProblemCodeBadBirthDate:    "la data di nascita scritta nel codice fiscale non esiste",
		ProblemCodeBadDate:         "non è una data valida (GG-MM-AAAA o AAAA-MM-GG)",
		ProblemCodeBadEmail:        "non è un indirizzo e-mail valido (ad esempio nome@esempio.it)",
		ProblemCodeBadFileName:     "il nome del file è vuoto o contiene caratteri non ammessi",
		ProblemCodeBadMIMEType:     "il tipo del file non è valido",
		ProblemCodeEmptyFile:       "il file è vuoto",
		ProblemCodeTooLarge:        "il file supera la dimensione massima consentita",
		ProblemCodeBadBase64:       "il contenuto del file non è codificato correttamente (base64)",
	},
	English: {
		ProblemCodeMissing:         "required and not filled",
		ProblemCodeOneOfMissing:    "not filled; the rule needs one of several groups of fields",
		ProblemCodeUnknownKey:      "not a field of this service",
		ProblemCodeRuleUnsupported: "the service's rule cannot be checked locally; Visengine will check it",
		ProblemCodeBlankAround:     "has leading or trailing blanks",
		ProblemCodeBadLength:       "has the wrong number of characters (a codice fiscale has 16, a partita IVA 11 digits)",
		ProblemCodeBadFormat:       "has characters or a layout its type does not allow",
		ProblemCodeCheckChar:       "the check character does not match the rest: most likely a typo",
		ProblemCodeBadBirthDate:    "the birth date written in the codice fiscale does not exist",
		ProblemCodeBadDate:         "not a real calendar date (DD-MM-YYYY or YYYY-MM-DD)",
		ProblemCodeBadEmail:        "not a bare e-mail address (such as name@example.it)",
		ProblemCodeBadFileName:     "the file's name is empty or has characters that are not allowed",
		ProblemCodeBadMIMEType:     "the file's type is not valid",
		ProblemCodeEmptyFile:       "the file is empty",
		ProblemCodeTooLarge:        "the file is larger than the allowed size",
		ProblemCodeBadBase64:       "the file's content is not valid base64",
	},
}

// problemWords are the pieces ValidationError.Message and ProblemsIn put
// around the fields' labels, per language.
var problemWords = map[Lang]map[string]string{
	Italian: {
		"or":         " oppure ",
		"truncated":  " (una delle molte possibilità)",
		"groups":     "uno dei gruppi di campi alternativi",
		"hiddenKey":  "; la chiave non è della forma $N e non viene mostrata, perché potrebbe essere un valore",
		"invalid":    "campi non validi",
		"missing":    "da compilare: {fields}",
		"missingOne": "da compilare: uno di {groups}",
		"missingAnd": "da compilare: {fields} e uno di {groups}",
		"oneOf":      "non è compilato; la regola chiede uno di {groups}",
		"unknown":    "chiavi sconosciute {keys}",
		"hidden":     "{n} chiavi non della forma $N",
	},
	English: {
		"or":         " | ",
		"truncated":  " (one of many possibilities shown)",
		"groups":     "one of several groups of fields",
		"hiddenKey":  "; the key is not of the form $N and is not shown, as it may be a value",
		"invalid":    "invalid fields",
		"missing":    "missing {fields}",
		"missingOne": "missing one of {groups}",
		"missingAnd": "missing {fields} and one of {groups}",
		"oneOf":      "not filled; the rule needs one of {groups}",
		"unknown":    "unknown keys {keys}",
		"hidden":     "{n} key(s) not of the form $N",
	},
}

func word(lang Lang, name string) string {
	s, _ := text(problemWords, lang, name)
	return s
}

// Message returns the code's sentence in lang (English when lang is not
// one of [Langs]), or "" for a code the SDK does not know. For
// ProblemCodeOneOfMissing the groups are not known here and are named
// generically; [ValidationError.ProblemsIn] lists them.
func (c ProblemCode) Message(lang Lang) string {
	s, _ := text(problemMessages, lang, c)
	return s
}

// Message says what is wrong in lang, without the field's label (a form
// shows it next to the field): the code's sentence from the language's
// table. In English, a Reason more precise than the table's sentence (a
// format check's, such as "codice fiscale must be 16 characters") is kept.
// A code the SDK does not know gives the Reason.
func (p Problem) Message(lang Lang) string {
	lang = lang.orDefault()
	if lang == English && p.Reason != "" {
		return p.Reason
	}
	if s := p.Code.Message(lang); s != "" {
		return s
	}
	return p.Reason
}

// ProblemsIn is Problems with each Reason in lang: the same problems in the
// same order, the alternatives of the rule spelled out for
// ProblemCodeOneOfMissing. ProblemsIn(English) is Problems.
func (e *ValidationError) ProblemsIn(lang Lang) []Problem {
	ps := e.Problems()
	lang = lang.orDefault()
	if e == nil || lang == English {
		return ps
	}
	groups := ""
	if e.Missing != nil {
		groups = e.choicesIn(lang)
	}
	for i := range ps {
		p := &ps[i]
		switch {
		case p.Code == ProblemCodeOneOfMissing && groups != "":
			p.Reason = fill(word(lang, "oneOf"), "groups", groups)
		case p.Code == ProblemCodeUnknownKey && p.Key == hiddenKey:
			p.Reason = p.Code.Message(lang) + word(lang, "hiddenKey")
		default:
			p.Reason = p.Message(lang)
		}
	}
	return ps
}

// choicesIn renders the alternatives of Missing without their required keys
// in lang: {"A" ($1)} oppure {"B" ($2), "C" ($3)}.
func (e *ValidationError) choicesIn(lang Lang) string {
	m := e.Missing
	var groups []string
	for _, alt := range m.Alternatives {
		var rest []string
		for _, k := range alt {
			if !slices.Contains(m.Required, k) {
				rest = append(rest, e.label(k))
			}
		}
		if len(rest) > 0 {
			groups = append(groups, "{"+strings.Join(rest, ", ")+"}")
		}
	}
	if len(groups) == 0 {
		return ""
	}
	text := strings.Join(groups, word(lang, "or"))
	if m.Truncated {
		text += word(lang, "truncated")
	}
	return text
}

// Message says what is wrong on one line in lang, like Error (which is the
// English one), with the fields' labels and keys and never a value: in
// Italian, `visengine: campi non validi: manca "CELLULARE" ($3)`.
func (e *ValidationError) Message(lang Lang) string {
	if e == nil || lang.orDefault() == English {
		return e.Error()
	}
	var parts []string
	if e.Missing != nil {
		parts = append(parts, e.missingTextIn(lang))
	}
	for _, p := range e.ProblemsIn(lang) {
		if p.Code != ProblemCodeMissing && p.Code != ProblemCodeOneOfMissing &&
			p.Code != ProblemCodeUnknownKey && p.Code != ProblemCodeRuleUnsupported {
			parts = append(parts, fmt.Sprintf("%q (%s): %s", p.Name, p.Key, p.Reason))
		}
	}
	if len(e.UnknownKeys) > 0 {
		parts = append(parts, unknownKeysIn(lang, e.UnknownKeys))
	}
	if e.Rule != nil {
		parts = append(parts, ProblemCodeRuleUnsupported.Message(lang))
	}
	return "visengine: " + word(lang, "invalid") + ": " + strings.Join(parts, "; ")
}

// missingTextIn renders Missing in lang.
func (e *ValidationError) missingTextIn(lang Lang) string {
	labels := make([]string, len(e.Missing.Required))
	for i, k := range e.Missing.Required {
		labels[i] = e.label(k)
	}
	fields, groups := strings.Join(labels, ", "), e.choicesIn(lang)
	switch {
	case groups == "":
		return fill(word(lang, "missing"), "fields", fields)
	case len(labels) == 0:
		return fill(word(lang, "missingOne"), "groups", groups)
	}
	return fill(word(lang, "missingAnd"), "fields", fields, "groups", groups)
}

// unknownKeysIn names the unknown keys of the form "$N" and counts the
// others, in lang.
func unknownKeysIn(lang Lang, keys []string) string {
	var named []string
	hidden := 0
	for _, k := range keys {
		if k == hiddenKey {
			hidden++
		} else {
			named = append(named, `"`+k+`"`)
		}
	}
	var parts []string
	if len(named) > 0 {
		parts = append(parts, fill(word(lang, "unknown"), "keys", strings.Join(named, ", ")))
	}
	if hidden > 0 {
		parts = append(parts, fill(word(lang, "hidden"), "n", strconv.Itoa(hidden)))
	}
	return strings.Join(parts, "; ")
}

// ProblemCodes lists every ProblemCode the SDK reports, in the order of
// their declaration, for a form that prepares a message for each.
func ProblemCodes() []ProblemCode {
	return []ProblemCode{ProblemCodeMissing, ProblemCodeOneOfMissing, ProblemCodeUnknownKey,
		ProblemCodeRuleUnsupported, ProblemCodeBlankAround, ProblemCodeBadLength, ProblemCodeBadFormat,
		ProblemCodeCheckChar, ProblemCodeBadBirthDate, ProblemCodeBadDate, ProblemCodeBadEmail,
		ProblemCodeBadFileName, ProblemCodeBadMIMEType, ProblemCodeEmptyFile, ProblemCodeTooLarge,
		ProblemCodeBadBase64}
}

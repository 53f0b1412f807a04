package visengine

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden from the messages")

// checkGolden compares got with testdata/golden/name, or rewrites it with
// -update-golden.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *updateGolden {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -run %s -update-golden", t.Name())
	assert.Equal(t, string(want), got)
}

// Issue 22: every message for an applicant or an operator, in both
// languages, kept as golden files.
func TestMessagesGolden(t *testing.T) {
	for _, lang := range Langs() {
		t.Run(lang.String(), func(t *testing.T) {
			checkGolden(t, "messages."+lang.String()+".txt", renderMessages(t, lang))
		})
	}
}

func renderMessages(t *testing.T, lang Lang) string {
	var b strings.Builder
	fmt.Fprintln(&b, "# problem codes")
	for _, c := range ProblemCodes() {
		fmt.Fprintf(&b, "%s: %s\n", c, c.Message(lang))
	}
	fmt.Fprintln(&b, "# submission outcomes")
	for _, o := range SubmitOutcomes() {
		fmt.Fprintf(&b, "%s: %s\n", o, o.Message(lang))
	}
	fmt.Fprintln(&b, "# states")
	for _, s := range []Stato{StatoInRicerca, StatoInErogazione, StatoDatiDisponibili, StatoVisuraEvasa, StatoAnnullata, "Nuovo"} {
		fmt.Fprintf(&b, "%s: %s\n", s, s.Message(lang))
	}
	a2 := loadA2(t)
	cases := []struct {
		name string
		v    *Visura
		vals Values
	}{
		{"A2 without CELLULARE", a2, a2Values(func(v Values) { delete(v, "$3") })},
		{"A2 with a broken codice fiscale and an unknown key", a2,
			a2Values(func(v Values) { v["$4"] = "RSSMRA80A01H501X"; v["$9"] = "x"; v["nome"] = "y" })},
		{"alternatives, nothing filled", altVisura(), Values{}},
		{"alternatives, $0 filled", altVisura(), Values{"$0": "x"}},
	}
	for _, c := range cases {
		fmt.Fprintf(&b, "# %s\n", c.name)
		var ve *ValidationError
		require.ErrorAs(t, c.v.Validate(c.vals), &ve)
		fmt.Fprintln(&b, ve.Message(lang))
		for _, p := range ve.ProblemsIn(lang) {
			fmt.Fprintf(&b, "%s %q %s: %s\n", p.Key, p.Name, p.Code, p.Reason)
		}
		if ve.Missing != nil {
			fmt.Fprintln(&b, ve.Missing.Describe(lang, ve.Names))
		}
	}
	fmt.Fprintln(&b, "# A2 rule, nothing filled")
	r, err := a2.Rule()
	require.NoError(t, err)
	names := map[string]string{}
	for _, f := range a2.Fields() {
		names[f.Key] = f.Nome
	}
	fmt.Fprintln(&b, r.Explain(FieldSet{}).Describe(lang, names))
	fmt.Fprintln(&b, r.Explain(FieldSetOf("$0", "$1", "$2", "$3", "$4", "$5", "$6")).Describe(lang, names))
	return b.String()
}

// a2Values is a complete A2 applicant, changed by edit.
func a2Values(edit func(Values)) Values {
	v := Values{"$0": "Mario", "$1": "Rossi", "$2": "mario.rossi@example.it", "$3": "3331234567",
		"$4": "RSSMRA80A01H501U", "$5": FileValue("doc.pdf", "application/pdf", []byte("%PDF-1.4")),
		"$6": FileValue("cf.pdf", "application/pdf", []byte("%PDF-1.4"))}
	edit(v)
	return v
}

// altVisura has a rule with real alternatives: $0 and one of $1, or $2
// with $3.
func altVisura() *Visura {
	return &Visura{JSONStruttura: Struttura{
		Campi: map[string]Campo{"$0": {Nome: "Nome", Tipo: "testo"}, "$1": {Nome: "PARTITA IVA", Tipo: "partita_iva"},
			"$2": {Nome: "Comune", Tipo: "testo"}, "$3": {Nome: "Foglio", Tipo: "testo"}},
		Validazione: "$0 && ($1 || ($2 && $3))",
	}}
}

// Issue 22: a missing required field says, in Italian, obbligatorio.
func TestProblemMissingIsObbligatorio(t *testing.T) {
	a2 := loadA2(t)
	var ve *ValidationError
	require.ErrorAs(t, a2.Validate(a2Values(func(v Values) { delete(v, "$3") })), &ve)
	ps := ve.ProblemsIn(Italian)
	require.Len(t, ps, 1)
	assert.Equal(t, "CELLULARE", ps[0].Name)
	assert.Contains(t, ps[0].Reason, "obbligatorio")
	assert.Equal(t, ve.Problems(), ve.ProblemsIn(English))
	assert.Equal(t, ve.Error(), ve.Message(English))
	assert.Equal(t, ve.Error(), ve.Message("fr"), "an unknown language falls back to English")
}

// A field the rule needs one group of says so in Italian, naming the
// groups: never an empty reason.
func TestProblemOneOfInItalian(t *testing.T) {
	var ve *ValidationError
	require.ErrorAs(t, altVisura().Validate(Values{"$0": "x"}), &ve)
	ps := ve.ProblemsIn(Italian)
	require.NotEmpty(t, ps)
	for _, p := range ps {
		require.Equal(t, ProblemCodeOneOfMissing, p.Code)
		assert.Contains(t, p.Reason, "uno di", p.Key)
		assert.Contains(t, p.Reason, `"PARTITA IVA"`, p.Key)
	}
}

// Every code, outcome and state has a message in every language, and each
// table holds exactly the declared codes.
func TestMessageTablesComplete(t *testing.T) {
	for _, lang := range Langs() {
		assert.Len(t, problemMessages[lang], len(ProblemCodes()), lang)
		assert.Len(t, outcomeMessages[lang], len(SubmitOutcomes()), lang)
		for _, c := range ProblemCodes() {
			assert.NotEmpty(t, c.Message(lang), "%s %s", lang, c)
			assert.NotContains(t, c.Message(lang), "{", "%s %s: unfilled placeholder", lang, c)
		}
		for _, o := range SubmitOutcomes() {
			assert.NotEmpty(t, o.Message(lang), "%s %s", lang, o)
		}
		assert.Len(t, problemWords[lang], len(problemWords[English]))
		assert.Len(t, explainWords[lang], len(explainWords[English]))
	}
	assert.Empty(t, ProblemCode("nope").Message(Italian))
	assert.Equal(t, "r", Problem{Code: "nope", Reason: "r"}.Message(Italian))
}

func TestParseLang(t *testing.T) {
	for in, want := range map[string]Lang{"it": Italian, "it-IT": Italian, "it_IT.UTF-8": Italian,
		" IT ": Italian, "en": English, "en_GB": English, "en_US.utf8@euro": English} {
		got, ok := ParseLang(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "C", "POSIX", "fr_FR", "i"} {
		_, ok := ParseLang(in)
		assert.False(t, ok, in)
	}
}

func TestSubmitOutcomeOf(t *testing.T) {
	unknown := &SubmitError{Step: StepClose, ID: "x", Err: &OutcomeUnknownError{Err: errors.New("reset")}}
	for err, want := range map[error]SubmitOutcome{
		nil:                                      OutcomePaid,
		unknown:                                  OutcomeUnknown,
		&ValidationError{Invalid: []Problem{{}}}: OutcomeInvalid,
		fmt.Errorf("%w", ErrIdempotencyKeyReused):                                 OutcomeKeyReused,
		&SubmitError{Step: StepDraft, Err: &APIError{StatusCode: 400, Code: 200}}: OutcomeRefused,
		ErrInvalidArgument:  OutcomeNotSent,
		context.Canceled:    OutcomeNotSent,
		errors.New("other"): OutcomeFailed,
	} {
		assert.Equal(t, want, SubmitOutcomeOf(err), "%v", err)
	}
}

package form_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
)

// checkCase is one value of a tipo, for comparing the browser's checks
// with the server's.
type checkCase struct {
	Tipo  string `json:"tipo"`
	Value string `json:"value"`
}

// checkCases are valid values of each tipo the script checks, each
// mutated at every position, plus a few shapes (case, length, blanks).
func checkCases() []checkCase {
	valid := map[string][]string{
		"codice_fiscale_persona_fisica": {"RSSMRA80A01H501U", "RSSMRA85M01H501Q", "BNCLRA70E41F205T"},
		"codice_fiscale":                {"RSSMRA80A01H501U", "01234567897"},
		"partita_iva":                   {"01234567897", "RSSMRA80A01H501U"},
		"cod_comune":                    {"H501"},
		"cod_provincia":                 {"RM"},
		"data_iso8601":                  {"2024-02-29", "31-12-2020"},
	}
	var out []checkCase
	for tipo, values := range valid {
		for _, v := range values {
			out = append(out, checkCase{tipo, v}, checkCase{tipo, strings.ToLower(v)}, checkCase{tipo, " " + v},
				checkCase{tipo, v[1:]}, checkCase{tipo, v + "0"})
			for i := range len(v) {
				for _, c := range "0A9ZLM-" {
					out = append(out, checkCase{tipo, v[:i] + string(c) + v[i+1:]})
				}
			}
		}
	}
	return out
}

// serverCode is the problem code Validate gives value as a field of tipo,
// or "" when it is well formed.
func serverCode(t *testing.T, tipo, value string) string {
	v := &visengine.Visura{JSONStruttura: visengine.Struttura{
		Campi: map[string]visengine.Campo{"$0": {Nome: "X", Tipo: tipo}}, Validazione: "$0"}}
	var ve *visengine.ValidationError
	err := v.Validate(visengine.Values{"$0": value})
	if err == nil {
		return ""
	}
	require.True(t, errors.As(err, &ve))
	return string(ve.Invalid[0].Code)
}

// testChecksMatchServer runs the page's format checks in the browser over
// checkCases and compares each code with the server's.
func testChecksMatchServer(t *testing.T, ctx context.Context, base string) {
	cases := checkCases()
	var got []string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(base),
		chromedp.Evaluate(`(function (cases) {
			var f = document.getElementById("visengine-form").visengineFormat;
			return cases.map(function (c) { return f(c.tipo, c.value); });
		})(`+mustJSON(t, cases)+`)`, &got),
	))
	require.Len(t, got, len(cases))
	mismatches := 0
	for i, c := range cases {
		if want := serverCode(t, c.Tipo, c.Value); !assert.Equal(t, want, got[i], "%s %q", c.Tipo, c.Value) {
			mismatches++
		}
	}
	t.Logf("%d values compared, %d mismatches", len(cases), mismatches)
}

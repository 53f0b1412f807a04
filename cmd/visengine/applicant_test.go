package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
)

// parseErrors are the only shapes parseApplicant's errors take: none of
// them can carry a byte of the input.
var parseErrors = regexp.MustCompile(`^(line \d+: (not valid JSON|more after the object|a value must be a JSON string \(quote numbers: a phone number's leading 0 or \+ would be lost\))|the JSON ends too soon: is a brace or a quote missing\?|not a JSON object: write \{"\$0": "…", "CODICE FISCALE": "…", "COPIA …": "@scan\.pdf"\})$`)

func TestParseApplicant(t *testing.T) {
	entries, err := parseApplicant([]byte("{\n \"Nome\": \"Mario\",\n\n \"$4\" : \"RSSMRA85M01H501Q\", \"x\": null\n}\n"))
	require.NoError(t, err)
	assert.Equal(t, []applicantEntry{{key: "Nome", value: "Mario", line: 2}, {key: "$4", value: "RSSMRA85M01H501Q", line: 4}}, entries)

	for in, want := range map[string]string{
		`{"Nome": Mario}`:              "line 1: not valid JSON",
		"{\n\"a\": \"b\",\n\"c\": 3}":  "line 3: a value must be a JSON string",
		`{"a": {"b": "c"}}`:            "line 1: a value must be a JSON string",
		`{"a": "b"`:                    "the JSON ends too soon",
		``:                             "the JSON ends too soon",
		`"Mario"`:                      "not a JSON object",
		"{}\n\n{}":                     "line 3: more after the object",
		"{\"a\": \"Mario\x01Rossi\"}":  "line 1: not valid JSON",
		`{"secret-key": "x", "b": 1e}`: "line 1: not valid JSON",
	} {
		_, err := parseApplicant([]byte(in))
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), want, in)
		assert.Regexp(t, parseErrors, err.Error())
	}
}

// FuzzParseApplicant checks that any input parses or fails with one of
// the fixed messages (so no value is ever echoed), and that what parses
// survives a round trip.
func FuzzParseApplicant(f *testing.F) {
	for _, s := range []string{`{"Nome": "Mario", "$4": "RSSMRA85M01H501Q"}`, `{"a": null}`, `{"a": 1}`, `[]`, `{"a": "b"} x`, "{\n}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := parseApplicant(b)
		if err != nil {
			if !parseErrors.MatchString(err.Error()) {
				t.Fatalf("unexpected error shape: %q", err)
			}
			return
		}
		var sb strings.Builder
		sb.WriteString("{")
		for i, e := range entries {
			k, _ := json.Marshal(e.key)
			v, _ := json.Marshal(e.value)
			fmt.Fprintf(&sb, "%s%s:%s", map[bool]string{true: ","}[i > 0], k, v)
			if e.line < 1 || e.line > strings.Count(string(b), "\n")+1 {
				t.Fatalf("line %d out of range", e.line)
			}
		}
		sb.WriteString("}")
		again, err := parseApplicant([]byte(sb.String()))
		require.NoError(t, err)
		require.Len(t, again, len(entries))
		for i := range again {
			assert.Equal(t, entries[i].key, again[i].key)
			assert.Equal(t, entries[i].value, again[i].value)
		}
	})
}

func TestUnknownKey(t *testing.T) {
	assert.Equal(t, "$9", unknownKey("$9"))
	assert.Equal(t, textKey("theKey"), unknownKey("Mario Rossi"))
	assert.Equal(t, textKey("theKey"), unknownKey("$"))
	assert.Equal(t, textKey("theKey"), unknownKey("$1234567890"))
	assert.Equal(t, textKey("theKey"), unknownKey("$9 Mario"))
}

func TestOneLine(t *testing.T) {
	err := fmt.Errorf("reading: %w", errors.New("visengine: GET /x:\nHTTP 500\x1b[31m"))
	assert.Equal(t, "reading: GET /x: HTTP 500 [31m", oneLine(err))
	assert.Equal(t, "not found", oneLine(errors.New("visengine: not found")))
	assert.Contains(t, oneLine(fmt.Errorf("x: %w", visengine.ErrUnauthorized)), "check VISENGINE_TOKEN")
	assert.Equal(t, "interrupted", oneLine(context.Canceled))
	// C1 controls too, as clean removes them: U+009B is an 8-bit CSI.
	assert.Equal(t, "a 31m b", oneLine(errors.New("a \u009b31m b")))
}

func TestExitCode(t *testing.T) {
	assert.Equal(t, 0, exitCode(nil))
	assert.Equal(t, 1, exitCode(errDeclined))
	assert.Equal(t, 2, exitCode(errors.New("x")))
	assert.Equal(t, 3, exitCode(fmt.Errorf("x: %w", visengine.ErrOutcomeUnknown)))
	// A draft whose outcome is unknown was never charged: 2, not 3.
	draft := submitFailure(&visengine.SubmitError{Step: visengine.StepDraft, Err: &visengine.OutcomeUnknownError{Method: "POST", Path: "/richiesta"}}, true)
	assert.Equal(t, 2, exitCode(draft))
	closing := submitFailure(&visengine.SubmitError{Step: visengine.StepClose, ID: "abc", Err: &visengine.OutcomeUnknownError{Method: "PUT", Path: "/richiesta/abc"}}, false)
	assert.Equal(t, 3, exitCode(closing))
	assert.Contains(t, closing.Error(), "do NOT submit again; 'visengine resume abc --no-close-sent' finishes it")
}

func TestHTMLText(t *testing.T) {
	h := `<p>Scarica il <a href="https://example.com/delega.pdf">modulo di delega</a>,<br>firmalo &amp; allegalo.</p><p></p><p></p><ul><li>uno</li><li>due</li></ul>`
	assert.Equal(t, "Scarica il modulo di delega (https://example.com/delega.pdf),\nfirmalo & allegalo.\n\nuno\ndue", htmlText(h))
	assert.Equal(t, "a [2Jb", htmlText("a\x1b[2Jb")) // the escape is gone, the rest harmless
}

func TestMask(t *testing.T) {
	assert.Equal(t, "abcdef…", mask("abcdef0123456789abcdef"))
	assert.Equal(t, "•••", mask("abc"))
}

func TestProgressBar(t *testing.T) {
	var sb strings.Builder
	b := &progressBar{w: &sb, last: -1}
	b.update(0, 200)
	b.update(1, 200) // same percentage: not drawn again
	b.update(100, 200)
	b.update(200, 200)
	b.finish()
	assert.Equal(t, "\r[------------------------------]   0%  0/200 bytes"+
		"\r[###############---------------]  50%  100/200 bytes"+
		"\r[##############################] 100%  200/200 bytes\n", sb.String())
	var nilBar *progressBar
	nilBar.finish() // no terminal, no bar
	assert.Nil(t, newProgressBar(&sb, visengine.English))
}

func TestColour(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	assert.True(t, wantColour(true, env("TERM", "xterm")))
	assert.False(t, wantColour(false, env("TERM", "xterm")), "not a terminal")
	assert.False(t, wantColour(true, env("NO_COLOR", "1")))
	assert.False(t, wantColour(true, env("TERM", "dumb")))
	var sb strings.Builder
	assert.Equal(t, "ready", paint(&sb, styleGreen, "ready"), "a buffer is no terminal")
}

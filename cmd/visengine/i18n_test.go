package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
)

func TestLangFromEnv(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	assert.Equal(t, visengine.English, langFromEnv(env()))
	assert.Equal(t, visengine.Italian, langFromEnv(env("LANG", "it_IT.UTF-8")))
	assert.Equal(t, visengine.English, langFromEnv(env("LC_ALL", "C", "LANG", "it_IT.UTF-8")), "the first set decides")
	assert.Equal(t, visengine.Italian, langFromEnv(env("LC_MESSAGES", "it", "LANG", "en_US")))
	assert.Equal(t, visengine.English, langFromEnv(env("LANG", "fr_FR.UTF-8")))

	it := env("LANG", "it_IT.UTF-8")
	assert.Equal(t, visengine.English, langOfArgs([]string{"validate", "--lang", "en", "x"}, it))
	assert.Equal(t, visengine.English, langOfArgs([]string{"--lang=en"}, it))
	assert.Equal(t, visengine.Italian, langOfArgs([]string{"--lang", "fr"}, it), "a bad flag is a usage error; the line follows the locale")
	assert.Equal(t, visengine.Italian, langOfArgs([]string{"--", "--lang=en"}, it))
}

// Every sentence exists in both languages, and known errors are printed in
// the chosen one, alone or under an exit code, never when wrapped with
// more text.
func TestCLIMessages(t *testing.T) {
	for code := range cliText[visengine.English] {
		assert.NotEmpty(t, cliText[visengine.Italian][code], code)
	}
	assert.Len(t, cliText[visengine.Italian], len(cliText[visengine.English]))
	// Prompts and errors may hold a blank line only where both do.
	for code, en := range cliText[visengine.English] {
		it := cliText[visengine.Italian][code]
		assert.Equal(t, fmtVerbs(en), fmtVerbs(it), "%s: the same verbs, in the same order", code)
		assert.Equal(t, strings.HasSuffix(en, "\n"), strings.HasSuffix(it, "\n"), "%s: a final newline in both or neither", code)
		assert.Equal(t, strings.Count(en, "\t"), strings.Count(it, "\t"), "%s: the same columns", code)
	}
	assert.Equal(t, "interrotto", oneLineIn(context.Canceled, visengine.Italian))
	assert.Equal(t, "non inviata: non è stato inviato né addebitato nulla", oneLineIn(errDeclined, visengine.Italian))
	assert.Equal(t, "not submitted: nothing was sent or charged", oneLine(errDeclined))
	wrapped := errors.Join(errors.New("context"), errNoToken)
	assert.NotContains(t, oneLineIn(wrapped, visengine.Italian), "manca il token")
}

var fmtVerb = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)

// fmtVerbs lists the fmt verbs of a sentence, %% left out.
func fmtVerbs(s string) []string {
	return slices.DeleteFunc(fmtVerb.FindAllString(s, -1), func(v string) bool { return v == "%%" })
}

// The codes the source uses, literally or built from the outcomes and
// needs, all have a sentence in both languages: a typo in a code would
// print an empty line.
func TestMessageTablesComplete(t *testing.T) {
	uses := regexp.MustCompile(`(?:say\([^,()]+, |msgErr\(|textKey\(|exactArgs\(\d, )"([^"]+)"`)
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	codes := map[string]string{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		b, err := os.ReadFile(name)
		require.NoError(t, err)
		for _, m := range uses.FindAllStringSubmatch(string(b), -1) {
			if !strings.HasSuffix(m[1], ".") { // a prefix: the codes are added below
				codes[m[1]] = name
			}
		}
	}
	assert.Greater(t, len(codes), 100, "the pattern finds the codes")
	for _, o := range []string{outcomePaid, outcomeAlreadyPaid, outcomeInvalid, outcomeKeyReused,
		outcomeRefused, outcomeFailed, outcomeUnknown, outcomeSkipped} {
		codes["outcome."+o] = "batch_report.go"
	}
	for _, o := range summaryOrder {
		codes["count."+o] = "batch_report.go"
	}
	for _, n := range []string{needRequired, needOneOf, needOptional, needUnknown} {
		codes["need."+n] = "show.go"
	}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		codes[helpCode(c)] = "the command tree"
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk((&app{}).rootCommand())
	assert.Contains(t, codes, "short.token create")
	for code, file := range codes {
		for _, lang := range []visengine.Lang{visengine.English, visengine.Italian} {
			assert.NotEmpty(t, cliText[lang][code], "%s uses %q, missing in %s", file, code, lang)
		}
	}
}

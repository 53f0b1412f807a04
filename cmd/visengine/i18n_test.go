package main

import (
	"context"
	"errors"
	"fmt"
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

// A sentence wraps its error arguments: errors.Is and the exit code see
// them, and they are rendered in the sentence's language when the tables
// know them, else in English without the SDK's repeated prefix.
func TestMsgErrWraps(t *testing.T) {
	cause := fmt.Errorf("visengine: submit: %w", visengine.ErrOutcomeUnknown)
	err := msgErr("failUnknown", cause, "abc", msgErr("hintNow", "visengine resume abc"))
	assert.ErrorIs(t, err, visengine.ErrOutcomeUnknown)
	assert.Equal(t, 3, exitCode(err))
	assert.Equal(t, "visengine: submit: "+visengine.ErrOutcomeUnknown.Error()+
		"; richiesta abc may have been charged: do NOT submit again; 'visengine resume abc' finishes it", err.Error())
	it := oneLineIn(err, visengine.Italian)
	assert.True(t, strings.HasPrefix(it, "submit: "), it)
	assert.Contains(t, it, "; la richiesta abc potrebbe essere stata addebitata: NON inviarla di nuovo; 'visengine resume abc' la completa")

	usage := &usageError{cmd: "visengine status", err: msgErr("argCount", "status", textKey("argsID"), 0)}
	assert.Equal(t, "status needs a richiesta ID, got 0 argument(s) (see 'visengine status -h')", oneLine(usage))
	assert.Equal(t, "status richiede l'ID di una richiesta, ricevuti argomenti: 0 (vedere 'visengine status -h')",
		oneLineIn(usage, visengine.Italian))
	coded := &codeError{code: exitNo, err: msgErr("batchSkipped")}
	assert.Equal(t, "interrotto: i richiedenti saltati non sono stati inviati", oneLineIn(coded, visengine.Italian))
	tokenErr := &tokenError{err: fmt.Errorf("visengine: GET /x: %w", visengine.ErrUnauthorized), verdict: msgErr("tokenLive")}
	assert.Equal(t, "GET /x: "+strings.TrimPrefix(visengine.ErrUnauthorized.Error(), "visengine: ")+"; VISENGINE_TOKEN è un token valido di questo account, "+
		"eppure il server l'ha rifiutato: controllare VISENGINE_URL e --sandbox", oneLineIn(tokenErr, visengine.Italian))
}

// Every Italian Long help belongs to a command, names the same flags as
// the English one, and is what -h shows in Italian; English comes back.
func TestLongHelpIt(t *testing.T) {
	root := (&app{}).rootCommand()
	flags := regexp.MustCompile(`--[a-z][a-z-]*`)
	found := 0
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		path := strings.TrimPrefix(helpCode(c), "short.")
		if it, ok := longIt[path]; ok {
			found++
			en := c.Annotations[annotEnglishLong]
			want, got := flags.FindAllString(en, -1), flags.FindAllString(it, -1)
			slices.Sort(want)
			slices.Sort(got)
			assert.Equal(t, slices.Compact(want), slices.Compact(got), path)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	localizeHelp(root, visengine.Italian)
	walk(root)
	assert.Equal(t, len(longIt), found, "every key of longIt is a command")
	cat, _, err := root.Find([]string{"catalogue"})
	require.NoError(t, err)
	assert.Equal(t, longIt["catalogue"], cat.Long)
	localizeHelp(root, visengine.English)
	assert.True(t, strings.HasPrefix(cat.Long, "List the services of the catalogue"), cat.Long)
	assert.Equal(t, "List the services: hash, category, name, price", cat.Short)
}

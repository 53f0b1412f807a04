package main

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

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
	assert.Equal(t, "interrotto", oneLineIn(context.Canceled, visengine.Italian))
	assert.Equal(t, "non inviata: non è stato inviato né addebitato nulla", oneLineIn(errDeclined, visengine.Italian))
	assert.Equal(t, "not submitted: nothing was sent or charged", oneLine(errDeclined))
	wrapped := errors.Join(errors.New("context"), errNoToken)
	assert.NotContains(t, oneLineIn(wrapped, visengine.Italian), "manca il token")
}

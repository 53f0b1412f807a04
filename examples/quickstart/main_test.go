package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuickstartOnFake(t *testing.T) {
	t.Setenv("VISENGINE_TOKEN", "") // the fake, whatever the developer's shell has
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "doc")

	var buf bytes.Buffer
	require.NoError(t, run(ctx, []string{"-out", dir}, &buf))
	got := buf.String()
	t.Log("\n" + got)

	assert.Contains(t, got, "embedded fake Visengine server")
	assert.Contains(t, got, "Catalogue: 92 services in 4 categories")
	assert.Contains(t, got, "Price €20.00, with urgenza €24.00")
	assert.Regexp(t, `(?m)^  \$3\s+CELLULARE\s+testo$`, got)

	// The missing phone is named, $7 is called optional, and the fix passes.
	missing := strings.Index(got, "Missing: CELLULARE ($3)")
	optional := strings.Index(got, "Optional per the rule: COPIA MANDATO DI ASSISTENZA E RAPPRESENTANZA ($7)")
	ok := strings.Index(got, "OK: the applicant satisfies the rule")
	require.True(t, missing >= 0 && optional > missing && ok > optional, "validation lines missing or out of order")
	assert.Contains(t, got, "The fake's wallet was charged €24.00")

	// The states, in order, ending at the ready one.
	states := regexp.MustCompile(`(?m)^  \+\d+\.\d\ds  (.+)$`).FindAllStringSubmatch(got, -1)
	var names []string
	for _, m := range states {
		names = append(names, m[1])
	}
	require.NotEmpty(t, names)
	assert.Equal(t, "In erogazione", names[0])
	assert.Contains(t, []string{"Dati disponibili", "Visura evasa"}, names[len(names)-1])

	// The progress bar, one line per quarter.
	for _, p := range []string{" 25%", " 50%", " 75%", "[####################] 100%"} {
		assert.Contains(t, got, p)
	}

	// The zip holds <id>.pdf, saved under -out.
	id := regexp.MustCompile(`richiesta ([0-9a-f]{24})`).FindStringSubmatch(got)
	require.Len(t, id, 2, "no richiesta id in the output")
	assert.Regexp(t, `(?m)^  `+id[1]+`\.pdf\s+\d+ bytes$`, got)
	assert.Contains(t, got, "Saved under "+dir)
	pdf, err := os.ReadFile(filepath.Join(dir, id[1]+".pdf"))
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(pdf, []byte("%PDF-")), "the saved file is not a PDF")
}

func TestQuickstartSandboxNeedsToken(t *testing.T) {
	t.Setenv("VISENGINE_TOKEN", "")
	var buf bytes.Buffer
	err := run(context.Background(), []string{"-sandbox"}, &buf)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "VISENGINE_TOKEN")
}

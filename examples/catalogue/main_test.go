package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const hashA2 = "2631ec9b62135de4186f509fea7d954b"

func runOnFake(t *testing.T, args ...string) string {
	t.Helper()
	t.Setenv("VISENGINE_TOKEN", "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var buf bytes.Buffer
	require.NoError(t, run(ctx, args, &buf))
	return buf.String()
}

func TestCatalogueGroupedByCategory(t *testing.T) {
	got := runOnFake(t)
	assert.Contains(t, got, "92 services in 4 categories")

	headings := regexp.MustCompile(`(?m)^(\S.*) \((\d+)\)$`).FindAllStringSubmatch(got, -1)
	require.Len(t, headings, 4, "one heading per category")
	var names []string
	for _, h := range headings {
		names = append(names, h[1])
	}
	assert.IsNonDecreasing(t, names, "categories sorted")

	// A2 sits under the Patronato heading, before the next one.
	section := got[strings.Index(got, "\nPatronato ("):]
	if next := regexp.MustCompile(`\n\n\S`).FindStringIndex(section[1:]); next != nil {
		section = section[:next[0]+1]
	}
	assert.Contains(t, section, "  "+hashA2+"  Domanda Esame A2 per Carta di Soggiorno")
	assert.Equal(t, 92, len(regexp.MustCompile(`(?m)^  [0-9a-z]{32}  \S`).FindAllString(got, -1)), "one line per service")
}

func TestCatalogueHashA2(t *testing.T) {
	got := runOnFake(t, "-hash", hashA2)
	assert.Contains(t, got, "Domanda Esame A2 per Carta di Soggiorno")
	assert.Contains(t, got, "Price: €20.00")
	assert.Contains(t, got, "Option urgenza (opzione_0): +€4.00, total €24.00")
	assert.Contains(t, got, "Rule (validazione): ($0 && $1 && $2 && $3 && $4 && $5 && $6 && $7) || ($0 && $1 && $2 && $3 && $4 && $5 && $6)")
	assert.Contains(t, got, "1. $0 $1 $2 $3 $4 $5 $6\n")
	required := got[strings.Index(got, "Required in every case:"):strings.Index(got, "Optional (")]
	assert.Contains(t, required, "$3 CELLULARE")
	assert.NotContains(t, required, "$7")
	assert.Contains(t, got[strings.Index(got, "Optional ("):], "$7 COPIA MANDATO DI ASSISTENZA E RAPPRESENTANZA")
	assert.Contains(t, got, "Istruzioni: none")
}

func TestCatalogueUnknownHash(t *testing.T) {
	t.Setenv("VISENGINE_TOKEN", "")
	var buf bytes.Buffer
	err := run(context.Background(), []string{"-hash", "00000000000000000000000000000000"}, &buf)
	require.Error(t, err)
}

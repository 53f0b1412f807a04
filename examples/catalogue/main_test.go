package main

import (
	"bytes"
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/visengine-go/visengine/internal/maintest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine/visenginetest"
)

// TestMain lets the test binary play the command itself (maintest), so
// tests can check its exit status.
func TestMain(m *testing.M) { maintest.Main(m, main) }

// noServerEnv makes the example use the embedded fake, whatever the
// developer's shell exports.
func noServerEnv(t *testing.T) {
	t.Setenv("VISENGINE_URL", "")
	t.Setenv("VISENGINE_TOKEN", "")
}

const hashA2 = "2631ec9b62135de4186f509fea7d954b"

func runOnFake(t *testing.T, args ...string) string {
	t.Helper()
	noServerEnv(t)
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
	noServerEnv(t)
	var buf bytes.Buffer
	err := run(context.Background(), []string{"-hash", "00000000000000000000000000000000"}, &buf)
	require.Error(t, err)
}

// VISENGINE_URL and VISENGINE_TOKEN (visengine-fake's two lines) send the
// example, and the token, to that server; it says so first.
func TestCatalogueHonoursVisengineURL(t *testing.T) {
	srv := visenginetest.NewServer()
	defer srv.Close()
	t.Setenv("VISENGINE_URL", srv.URL)
	t.Setenv("VISENGINE_TOKEN", srv.Token)
	var buf bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-hash", hashA2}, &buf))
	assert.True(t, strings.HasPrefix(buf.String(), "Using the Visengine server named by VISENGINE_URL at "+srv.URL), buf.String())
	assert.Contains(t, buf.String(), "Price: €20.00")
	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "/visure/"+hashA2, reqs[0].Path)
}

// -h prints the usage and exits 0, as the real command (issue 9 #11).
func TestHelpExitsZero(t *testing.T) {
	noServerEnv(t)
	cmd := maintest.Command("-h")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "exit status not 0:\n%s", out)
	assert.Contains(t, string(out), "Usage of catalogue")
	assert.Contains(t, string(out), "-hash")
	assert.NotContains(t, string(out), "services in", "-h runs nothing")

	cmd = maintest.Command("-no-such-flag")
	out, err = cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "a bad flag fails:\n%s", out)
	assert.NotZero(t, exit.ExitCode())
}

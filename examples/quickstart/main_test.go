package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
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

func TestQuickstartOnFake(t *testing.T) {
	noServerEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "doc")

	var buf bytes.Buffer
	require.NoError(t, run(ctx, []string{"-out", dir}, &buf))
	got := buf.String()
	t.Log("\n" + got)

	assert.Regexp(t, `^No VISENGINE_TOKEN set: using the embedded fake Visengine server at http://127\.0\.0\.1:\d+ `, got)
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

	// The zip is saved as -out/<id>.zip and its <id>.pdf extracted next to it.
	id := regexp.MustCompile(`richiesta ([0-9a-f]{24})`).FindStringSubmatch(got)
	require.Len(t, id, 2, "no richiesta id in the output")
	assert.Contains(t, got, "Downloading to "+filepath.Join(dir, id[1]+".zip"))
	assert.Regexp(t, `(?m)^  `+id[1]+`\.pdf\s+\d+ bytes$`, got)
	assert.Contains(t, got, "Saved under "+dir)
	pdf, err := os.ReadFile(filepath.Join(dir, id[1]+".pdf"))
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(pdf, []byte("%PDF-")), "the saved file is not a PDF")
	zipped, err := os.ReadFile(filepath.Join(dir, id[1]+".zip"))
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(zipped, []byte("PK")), "the saved document is not a zip")
}

// With the two lines visengine-fake prints exported, the example talks to
// that server, says so, and (not being the embedded fake) only makes a dry
// run: one POST /richiesta with "test": true, nothing charged.
func TestQuickstartHonoursVisengineURL(t *testing.T) {
	srv := visenginetest.NewServer()
	defer srv.Close()
	t.Setenv("VISENGINE_URL", srv.URL)
	t.Setenv("VISENGINE_TOKEN", srv.Token)

	var buf bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-sandbox"}, &buf))
	got := buf.String()
	t.Log("\n" + got)
	assert.Contains(t, got, "-sandbox ignored: VISENGINE_URL is set and wins.")
	assert.Contains(t, got, "Using the Visengine server named by VISENGINE_URL at "+srv.URL)
	assert.NotContains(t, got, srv.Token)
	assert.Contains(t, got, "Dry run accepted")
	assert.Contains(t, got, "would cost €24.00")
	assert.Contains(t, got, "Run again with -pay")

	count, _ := srv.Charges()
	assert.Zero(t, count, "a dry run charges nothing")
	var posts int
	for _, r := range srv.Requests() {
		if r.Method != "POST" {
			continue
		}
		posts++
		var body struct {
			Test bool `json:"test"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &body))
		assert.True(t, body.Test, "the only POST is a test request")
	}
	assert.Equal(t, 1, posts)
}

func TestQuickstartSandboxNeedsToken(t *testing.T) {
	noServerEnv(t)
	var buf bytes.Buffer
	err := run(context.Background(), []string{"-sandbox"}, &buf)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "VISENGINE_TOKEN")
}

// -h prints the usage and exits 0, as the real command (issue 9 #11).
func TestHelpExitsZero(t *testing.T) {
	noServerEnv(t)
	for _, arg := range []string{"-h", "-help", "--help"} {
		cmd := maintest.Command(arg)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s: exit status not 0:\n%s", arg, out)
		assert.Contains(t, string(out), "Usage of quickstart", arg)
		assert.Contains(t, string(out), "-pay", arg)
		assert.NotContains(t, string(out), "Catalogue", "%s runs nothing", arg)
	}
	cmd := maintest.Command("-no-such-flag")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "a bad flag fails:\n%s", out)
	assert.NotZero(t, exit.ExitCode())
}

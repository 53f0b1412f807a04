package visengine_test

import (
	"context"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/visenginetest"
)

// The README's Go snippet is the code between the markers below, compiled
// with the tests and run by TestREADMESnippet; TestREADMEShowsTheSnippet
// checks that the README shows exactly this code, so it cannot rot.

// README begin

// requestA2 files the A2 exam application for one applicant, given by the
// labels of the form ("Nome", "CODICE FISCALE"…; files as
// visengine.FileValue(name, mime, content)), and saves the document.
func requestA2(ctx context.Context, c *visengine.Client, applicant map[string]string) (string, error) {
	v, err := c.GetVisura(ctx, "2631ec9b62135de4186f509fea7d954b") // Domanda Esame A2, €20
	if err != nil {
		return "", err
	}
	values := visengine.Values{}
	for label, value := range applicant {
		if err := values.SetField(v, label, value); err != nil {
			return "", err // no such field on this form
		}
	}
	if err := v.Validate(values); err != nil {
		return "", err // a *visengine.ValidationError: what to fix, by field, before paying
	}
	r, err := c.Submit(ctx, v, values, visengine.WithOpzioni("urgenza")) // €24, charged once
	if err != nil {
		return "", err // visengine.ErrOutcomeUnknown? see "Exactly once"; never resubmit blindly
	}
	r, err = c.Wait(ctx, r.ID, visengine.WithOnChange(func(r *visengine.Richiesta) {
		log.Println(r.ID, r.StatoRichiesta)
	}))
	if err != nil {
		return "", err
	}
	path := "out/" + r.ID + ".zip"
	_, err = c.DownloadToFile(ctx, r.ID, path) // creates out/ if missing
	return path, err
}

// README end

// readmeApplicant is a complete A2 applicant, by label.
func readmeApplicant() map[string]string {
	return map[string]string{
		"Nome": "Mario", "Cognome": "Rossi", "Email": "mario.rossi@example.com",
		"CELLULARE": "+39 333 000 0000", "CODICE FISCALE": "RSSMRA80A01H501U",
		"COPIA DOCUMENTO D`IDENTITÀ FRONTE RETRO": visengine.FileValue("id.pdf", "application/pdf", []byte("%PDF-1.4")),
		"COPIA CODICE FISCALE FRONTE RETRO":       visengine.FileValue("cf.jpg", "image/jpeg", []byte{0xff, 0xd8, 0xff}),
	}
}

// The snippet works as written, in a folder without out/ (a fresh
// checkout), and charges once.
func TestREADMESnippet(t *testing.T) {
	// The fake finishes richieste within milliseconds; each read of a
	// richiesta is held back a little so that Wait's first poll, made at
	// once, sees the document ready (its default interval suits hours).
	srv := visenginetest.NewServer(visenginetest.WithAutoAdvance(time.Millisecond))
	defer srv.Close()
	srv.Fault(http.MethodGet, "/richiesta/{id}", visenginetest.Fault{Delay: 50 * time.Millisecond, Times: -1})
	dir := t.TempDir()
	t.Chdir(dir)
	log.SetOutput(testLog{t})
	defer log.SetOutput(os.Stderr)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	path, err := requestA2(ctx, srv.Client(), readmeApplicant())
	require.NoError(t, err)
	assert.Regexp(t, `^out/[0-9a-f]{24}\.zip$`, path)
	archive, err := visengine.OpenZipFile(filepath.Join(dir, path))
	require.NoError(t, err)
	defer archive.Close()
	assert.Len(t, archive.Files(), 1)
	count, total := srv.Charges()
	assert.Equal(t, 1, count)
	assert.Equal(t, "€24.00", total.String())

	// An incomplete applicant is refused before anything is sent.
	incomplete := readmeApplicant()
	delete(incomplete, "CELLULARE")
	before := len(srv.Requests())
	_, err = requestA2(ctx, srv.Client(), incomplete)
	assert.ErrorIs(t, err, visengine.ErrInvalidFields)
	assert.Len(t, srv.Requests(), before+1, "only GET /visure/{hash}")
}

// The README's Go blocks are the code between the markers above, in
// example_readme_token_test.go, in example_exactlyonce_test.go and in
// example_form_test.go, in that order.
func TestREADMEShowsTheSnippet(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1)

	var snippets []string
	for _, file := range []string{"example_readme_test.go", "example_readme_token_test.go", "example_exactlyonce_test.go", "example_form_test.go"} {
		src, err := os.ReadFile(file)
		require.NoError(t, err)
		rest := string(src)
		for {
			var ok bool
			if _, rest, ok = strings.Cut(rest, "\n// README begin\n\n"); !ok {
				break
			}
			snippet, after, ok := strings.Cut(rest, "\n// README end")
			require.True(t, ok, "%s: README begin without end", file)
			snippets, rest = append(snippets, snippet), after
		}
	}
	require.Len(t, blocks, len(snippets), "one Go block in the README per snippet")
	for i, snippet := range snippets {
		assert.Equal(t, snippet, blocks[i][1], "README.md's Go block %d differs from its snippet in example_readme*_test.go: copy it over", i+1)
	}
}

// The README names the commands a newcomer runs first; the examples and
// tests behind them are checked by their own packages.
func TestREADMECommands(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	for _, cmd := range []string{"go run ./examples/quickstart", "go test -race -count=1 ./..."} {
		assert.Contains(t, string(readme), "\n"+cmd+"\n", "README.md shows %q on a line of its own", cmd)
	}
}

// testLog sends the log package's lines to the test's log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

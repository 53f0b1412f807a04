package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine/internal/maintest"
)

var addrRE = regexp.MustCompile(`open (http://127\.0\.0\.1:\d+/intake/)`)

// TestIntakeOnFake runs the example on the embedded fake: it prints a
// local address that serves the A2 form in Italian.
func TestIntakeOnFake(t *testing.T) {
	t.Setenv("VISENGINE_URL", "")
	t.Setenv("VISENGINE_TOKEN", "")
	ctx, cancel := context.WithCancel(context.Background())
	var out maintest.SyncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, &out) }()
	var url string
	require.Eventually(t, func() bool {
		m := addrRE.FindStringSubmatch(out.String())
		if m != nil {
			url = m[1]
		}
		return m != nil
	}, 5*time.Second, 10*time.Millisecond)
	assert.Contains(t, out.String(), `Intake form for "Domanda Esame A2 per Carta di Soggiorno" (Patronato, €20.00)`)
	resp, err := http.Get(url)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.True(t, strings.HasPrefix(string(b), "<!DOCTYPE html>\n<html lang=\"it\">"))
	assert.Contains(t, string(b), "CELLULARE")
	cancel()
	require.NoError(t, <-done)
}

// Away from the embedded fake, the form is not served without -pay.
func TestIntakeNeedsPayAwayFromFake(t *testing.T) {
	t.Setenv("VISENGINE_URL", "http://127.0.0.1:1")
	t.Setenv("VISENGINE_TOKEN", "t")
	var out maintest.SyncBuffer
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0"}, &out)
	require.ErrorContains(t, err, "pass -pay")
	_, err = parseFlags([]string{"-lang", "fr"}, &out)
	assert.ErrorContains(t, err, "want it or en")
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/visengine-go/visengine/internal/maintest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/oauth"
)

// TestMain lets the test binary play the command itself (maintest), so
// tests can check its exit status.
func TestMain(m *testing.M) { maintest.Main(m, main) }

func TestRunServesVisure(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	var notes maintest.SyncBuffer
	go func() {
		err := run(ctx, []string{"-addr", "127.0.0.1:0", "-token", "5f8711afe4754a532a7a8358", "-wallet", "182.03", "-email", "caf@example.it"}, pw, &notes)
		_ = pw.Close()
		done <- err
	}()
	// stdout is only lines a shell can eval (issue 21), as "visengine fake" prints.
	vars := map[string]string{}
	sc := bufio.NewScanner(pr)
	for len(vars) < 5 && sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "export ")
		require.True(t, ok, "not an export line: %q", sc.Text())
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, line)
		vars[k] = v
	}
	// stderr says why exporting them is safe (issue 9 #7).
	assert.Contains(t, notes.String(), "VISENGINE_URL and OPENAPI_OAUTH_URL make the token and the key go to this server only, never to production")
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	require.Equal(t, "5f8711afe4754a532a7a8358", vars["VISENGINE_TOKEN"])

	req, err := http.NewRequest("GET", vars["VISENGINE_URL"]+"/visure", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+vars["VISENGINE_TOKEN"])
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var env struct {
		Data    []map[string]string `json:"data"`
		Success bool                `json:"success"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&env))
	assert.True(t, env.Success)
	assert.Len(t, env.Data, 92)

	// The account: a token from its OAuth service works on the fake, and
	// the wallet is the one given.
	assert.Equal(t, vars["VISENGINE_URL"]+"/oauth/v2", vars["OPENAPI_OAUTH_URL"])
	assert.Equal(t, "caf@example.it", vars["OPENAPI_EMAIL"])
	oc, err := oauth.NewClient(vars["OPENAPI_EMAIL"], vars["OPENAPI_APIKEY"], oauth.WithBaseURL(vars["OPENAPI_OAUTH_URL"]))
	require.NoError(t, err)
	info, err := oc.CreateToken(ctx, oauth.CreateTokenParams{Scopes: oauth.VisengineScopes(false)})
	require.NoError(t, err)
	c, err := visengine.NewClient(info.Token, visengine.WithBaseURL(vars["VISENGINE_URL"]))
	require.NoError(t, err)
	_, err = c.GetVisura(ctx, "2631ec9b62135de4186f509fea7d954b")
	require.NoError(t, err)
	credit, err := oc.Credit(ctx)
	require.NoError(t, err)
	assert.Equal(t, visengine.Cents(182_03), credit)

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

func TestRunRefusesRemoteAndBadFlags(t *testing.T) {
	ctx := context.Background()
	err := run(ctx, []string{"-addr", "0.0.0.0:0"}, io.Discard, io.Discard)
	assert.ErrorContains(t, err, "not a loopback")
	assert.Error(t, run(ctx, []string{"-wallet", "abc"}, io.Discard, io.Discard))
	assert.Error(t, run(ctx, []string{"-addr", "nohostport"}, io.Discard, io.Discard))
	assert.Error(t, run(ctx, []string{"-nope"}, io.Discard, io.Discard))
	assert.ErrorContains(t, run(ctx, []string{"-email", "a:b@example.it"}, io.Discard, io.Discard), "-email")
	assert.ErrorContains(t, run(ctx, []string{"-email", ""}, io.Discard, io.Discard), "-email")
	assert.ErrorContains(t, run(ctx, []string{"-apikey", "k e y"}, io.Discard, io.Discard), "-apikey")
}

// -h prints the usage and exits 0 (issue 9 #11); a bad flag exits 2.
func TestHelpExitsZero(t *testing.T) {
	var buf bytes.Buffer
	err := run(context.Background(), []string{"-h"}, io.Discard, &buf)
	assert.True(t, errors.Is(err, flag.ErrHelp), "run(-h) = %v", err)
	assert.Contains(t, buf.String(), "Usage of visengine-fake")
	// One set of defaults with "visengine fake": richieste advance (issue 21).
	assert.Regexp(t, `-progress duration\n.*\(default 2s\)`, buf.String())
	assert.Contains(t, buf.String(), "drop-after-apply")

	cmd := maintest.Command("-h")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "exit status not 0:\n%s", out)
	assert.Contains(t, string(out), "-allow-remote")
	assert.NotContains(t, string(out), "VISENGINE_URL=", "-h serves nothing")

	cmd = maintest.Command("-no-such-flag")
	out, err = cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "a bad flag fails:\n%s", out)
	assert.Equal(t, 2, exit.ExitCode())
}

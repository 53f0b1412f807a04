package main

import (
	"bytes"
	"context"
	"os/exec"
	"regexp"
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

func TestCallbackOnFake(t *testing.T) {
	noServerEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	var buf bytes.Buffer
	require.NoError(t, run(ctx, nil, &buf))
	got := buf.String()
	t.Log("\n" + got)

	assert.Regexp(t, `^No VISENGINE_TOKEN set: using the embedded fake Visengine server at http://127\.0\.0\.1:\d+ `, got)
	assert.Regexp(t, `(?m)^Receiver listening on 127\.0\.0\.1:(\d+); the server will call http://127\.0\.0\.1:\d+/visengine/callback$`, got)
	id := regexp.MustCompile(`Submitted richiesta ([0-9a-f]{24})`).FindStringSubmatch(got)
	require.Len(t, id, 2, "no richiesta id in the output")
	assert.Contains(t, got, "Fake operator: In erogazione -> Dati disponibili")
	assert.Contains(t, got, "Callback received: richiesta "+id[1]+", read back from the API: Dati disponibili, document ready: true")
}

// With visengine-fake's two lines exported and -pay, the example submits to
// that server, which calls the receiver back on loopback as it advances.
func TestCallbackHonoursVisengineURL(t *testing.T) {
	srv := visenginetest.NewServer(visenginetest.WithAutoAdvance(20 * time.Millisecond))
	defer srv.Close()
	t.Setenv("VISENGINE_URL", srv.URL)
	t.Setenv("VISENGINE_TOKEN", srv.Token)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	var buf bytes.Buffer
	require.NoError(t, run(ctx, []string{"-pay"}, &buf))
	got := buf.String()
	t.Log("\n" + got)
	assert.Contains(t, got, "Using the Visengine server named by VISENGINE_URL at "+srv.URL)
	assert.NotContains(t, got, srv.Token)
	assert.NotContains(t, got, "Fake operator", "that server is not the embedded fake")
	assert.Contains(t, got, "document ready: true")
	count, _ := srv.Charges()
	assert.Equal(t, 1, count)
	// The fake records a delivery once the receiver has answered it, which
	// may be just after run returned.
	assert.Eventually(t, func() bool {
		cbs := srv.Callbacks()
		return len(cbs) > 0 && cbs[0].Status == 200
	}, 5*time.Second, 10*time.Millisecond, "the delivery was answered 200")
}

// Without -pay, away from the embedded fake, only a dry run is made.
func TestCallbackDryRunAwayFromTheEmbeddedFake(t *testing.T) {
	srv := visenginetest.NewServer()
	defer srv.Close()
	t.Setenv("VISENGINE_URL", srv.URL)
	t.Setenv("VISENGINE_TOKEN", srv.Token)
	var buf bytes.Buffer
	require.NoError(t, run(context.Background(), nil, &buf))
	assert.Contains(t, buf.String(), "Dry run accepted with the callback")
	count, _ := srv.Charges()
	assert.Zero(t, count)
	assert.Empty(t, srv.Callbacks())
}

func TestCallbackRealPayNeedsPublicURL(t *testing.T) {
	t.Setenv("VISENGINE_URL", "")
	t.Setenv("VISENGINE_TOKEN", "not-a-real-token")
	var buf bytes.Buffer
	err := run(context.Background(), []string{"-pay"}, &buf)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-public-url")
}

// -h prints the usage and exits 0, as the real command (issue 9 #11).
func TestHelpExitsZero(t *testing.T) {
	noServerEnv(t)
	cmd := maintest.Command("-h")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "exit status not 0:\n%s", out)
	assert.Contains(t, string(out), "Usage of callback")
	assert.Contains(t, string(out), "-public-url")
	assert.NotContains(t, string(out), "Receiver", "-h runs nothing")

	cmd = maintest.Command("-no-such-flag")
	out, err = cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "a bad flag fails:\n%s", out)
	assert.NotZero(t, exit.ExitCode())
}

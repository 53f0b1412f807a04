package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine/visenginetest"
)

// TestBatchKilledAtRandom kills a batch process (SIGKILL) at random
// moments, run after run, then recovers and runs it to the end: each
// applicant is charged exactly once, and every results file left behind
// holds whole JSON lines only.
func TestBatchKilledAtRandom(t *testing.T) {
	srv, dir := batchFixture(t, 8)
	// Slow steps, so that the kills land in the middle of things.
	srv.Fault("POST", "/richiesta", visenginetest.Fault{Delay: 40 * time.Millisecond, Times: -1})
	srv.Fault("PUT", "/richiesta/{id}", visenginetest.Fault{Delay: 40 * time.Millisecond, Times: -1})
	exe, err := exec.LookPath("visengine") // the test binary, as testscript.Main set it up
	require.NoError(t, err)
	results := filepath.Join(t.TempDir(), "res.jsonl")
	batch := []string{"submit", "2631ec9b62135de4186f509fea7d954b", "--batch", dir, "--yes", "--concurrency", "3", "--results", results}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed) // to replay a failure, fix it here
	rng := rand.New(rand.NewPCG(seed, 2026))
	for round := range 4 {
		// Kill once the server has seen a random number more requests, a
		// random moment later: in a draft, a close, between applicants.
		target := len(srv.Requests()) + 1 + rng.IntN(12)
		after := time.Duration(rng.IntN(50)) * time.Millisecond
		cmd := visengineCmd(exe, batch...)
		require.NoError(t, cmd.Start())
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		waitRequests(srv, target, exited)
		time.Sleep(after)
		_ = cmd.Process.Kill()
		<-exited
		count, _ := srv.Charges()
		t.Logf("round %d: killed %s after request %d; %d charged so far", round, after, target, count)
		assertWholeLines(t, results)
	}
	srv.ClearFaults()
	time.Sleep(100 * time.Millisecond) // let the server apply what the killed ones sent

	// Closes sent by killed runs are in doubt until recover reads them back
	// (settle shortened: nothing is in flight any more).
	out, err := visengineCmd(exe, "recover", "--settle", "1ms").CombinedOutput()
	require.NoError(t, err, "%s", out)
	out, err = visengineCmd(exe, batch...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "batch of 8: ")

	final := readResults(t, results)
	charged := map[string]int{}
	for _, c := range srv.ChargeLog() {
		charged[c.RichiestaID]++
	}
	want := map[string]int{}
	for key, r := range final {
		assert.Contains(t, []string{outcomePaid, outcomeAlreadyPaid}, r.Outcome, key)
		want[r.ID] = 1
	}
	assert.Len(t, want, 8, "eight applicants, eight richieste")
	assert.Equal(t, want, charged, "each applicant's richiesta charged once, nothing else")
}

// waitRequests waits until srv has received n requests, or the process
// has exited, or 10 s have passed.
func waitRequests(srv *visenginetest.Server, n int, exited <-chan struct{}) {
	for deadline := time.Now().Add(10 * time.Second); len(srv.Requests()) < n && time.Now().Before(deadline); {
		select {
		case <-exited:
			return
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// visengineCmd runs the command (the test binary) against the test's fake.
func visengineCmd(exe string, args ...string) *exec.Cmd {
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	return cmd
}

// assertWholeLines checks that path, if it exists, holds only whole JSON
// lines.
func assertWholeLines(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	require.NoError(t, err)
	if len(b) > 0 {
		assert.True(t, bytes.HasSuffix(b, []byte("\n")), "a partial last line")
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line != "" {
			assert.True(t, json.Valid([]byte(line)), "not a JSON line: %q", line)
		}
	}
}

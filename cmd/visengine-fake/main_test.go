package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunServesVisure(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"-addr", "127.0.0.1:0", "-token", "5f8711afe4754a532a7a8358", "-wallet", "182.03"}, pw)
		_ = pw.Close()
		done <- err
	}()
	vars := map[string]string{}
	sc := bufio.NewScanner(pr)
	for len(vars) < 2 && sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			vars[k] = v
		}
	}
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
	err := run(ctx, []string{"-addr", "0.0.0.0:0"}, io.Discard)
	assert.ErrorContains(t, err, "not a loopback")
	assert.Error(t, run(ctx, []string{"-wallet", "abc"}, io.Discard))
	assert.Error(t, run(ctx, []string{"-addr", "nohostport"}, io.Discard))
	assert.Error(t, run(ctx, []string{"-nope"}, io.Discard))
}

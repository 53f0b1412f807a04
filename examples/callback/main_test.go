package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCallbackOnFake(t *testing.T) {
	t.Setenv("VISENGINE_TOKEN", "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	var buf bytes.Buffer
	require.NoError(t, run(ctx, nil, &buf))
	got := buf.String()
	t.Log("\n" + got)

	id := regexp.MustCompile(`Submitted richiesta ([0-9a-f]{24})`).FindStringSubmatch(got)
	require.Len(t, id, 2, "no richiesta id in the output")
	assert.Contains(t, got, "Fake operator: In erogazione -> Dati disponibili")
	assert.Contains(t, got, "Callback received: richiesta "+id[1]+", Dati disponibili")
	assert.Contains(t, got, "read back from the API: Dati disponibili, document ready: true")
}

func TestCallbackRealPayNeedsPublicURL(t *testing.T) {
	t.Setenv("VISENGINE_TOKEN", "not-a-real-token")
	var buf bytes.Buffer
	err := run(context.Background(), []string{"-pay"}, &buf)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-public-url")
}

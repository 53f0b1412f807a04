package env

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
)

func TestOpenWithoutTokenStartsTheFake(t *testing.T) {
	t.Setenv(TokenVar, "")
	var out bytes.Buffer
	c, fake, cleanup, err := Open(&out, false)
	defer cleanup()
	require.NoError(t, err)
	require.NotNil(t, fake)
	assert.Equal(t, fake.URL, c.BaseURL())
	assert.Contains(t, out.String(), "embedded fake")
	assert.Equal(t, 1, bytes.Count(out.Bytes(), []byte("\n")), "one line")
	_, err = c.ListVisure(context.Background())
	assert.NoError(t, err)
}

func TestOpenSandboxNeedsToken(t *testing.T) {
	t.Setenv(TokenVar, "")
	_, fake, cleanup, err := Open(new(bytes.Buffer), true)
	defer cleanup()
	assert.Error(t, err)
	assert.Nil(t, fake)
}

func TestOpenWithTokenUsesTheRealHosts(t *testing.T) {
	t.Setenv(TokenVar, "example-token")
	for sandbox, want := range map[bool]string{false: visengine.ProductionURL, true: visengine.SandboxURL} {
		var out bytes.Buffer
		c, fake, cleanup, err := Open(&out, sandbox)
		require.NoError(t, err)
		assert.Nil(t, fake)
		assert.Contains(t, c.BaseURL(), want)
		assert.Contains(t, out.String(), want)
		assert.NotContains(t, out.String(), "example-token", "the token is never printed")
		cleanup()
	}
}

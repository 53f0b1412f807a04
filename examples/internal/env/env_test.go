package env

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/visenginetest"
)

// vars is an environment for Open, instead of the process's own.
func vars(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestChoose(t *testing.T) {
	const fake = "http://127.0.0.1:8080"
	cases := []struct {
		name    string
		env     func(string) string
		sandbox bool
		want    choice
		wantErr string
	}{
		{"nothing", vars(), false, choice{kind: Embedded}, ""},
		{"token", vars(TokenVar, "t"), false, choice{kind: Production, url: visengine.ProductionURL, token: "t"}, ""},
		{"token sandbox", vars(TokenVar, "t"), true, choice{kind: Sandbox, url: visengine.SandboxURL, token: "t"}, ""},
		{"url and token", vars(URLVar, fake, TokenVar, "t"), false, choice{kind: Custom, url: fake, token: "t"}, ""},
		{"url wins over sandbox", vars(URLVar, fake, TokenVar, "t"), true, choice{kind: Custom, url: fake, token: "t", sandboxIgnored: true}, ""},
		{"blank url is unset", vars(URLVar, "  ", TokenVar, "t"), false, choice{kind: Production, url: visengine.ProductionURL, token: "t"}, ""},
		{"url without token", vars(URLVar, fake), false, choice{}, "VISENGINE_TOKEN is not"},
		{"sandbox without token", vars(), true, choice{}, "-sandbox needs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := choose(tc.env, tc.sandbox)
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestOpenWithoutTokenStartsTheFake(t *testing.T) {
	var out bytes.Buffer
	target, err := Open(&out, vars(), false)
	require.NoError(t, err)
	defer target.Close()
	require.NotNil(t, target.Fake)
	assert.Equal(t, Embedded, target.Kind)
	assert.Equal(t, target.Fake.URL, target.Client.BaseURL())
	assert.Contains(t, out.String(), "embedded fake")
	assert.Contains(t, out.String(), target.Fake.URL, "says where")
	assert.Equal(t, 1, bytes.Count(out.Bytes(), []byte("\n")), "one line")
	_, err = target.Client.ListVisure(context.Background())
	assert.NoError(t, err)
}

func TestOpenSandboxNeedsToken(t *testing.T) {
	target, err := Open(new(bytes.Buffer), vars(), true)
	assert.Error(t, err)
	assert.Nil(t, target)
	target.Close() // a nil Target closes as a no-op
}

func TestOpenWithTokenUsesTheRealHosts(t *testing.T) {
	for sandbox, want := range map[bool]string{false: visengine.ProductionURL, true: visengine.SandboxURL} {
		var out bytes.Buffer
		target, err := Open(&out, vars(TokenVar, "example-token"), sandbox)
		require.NoError(t, err)
		assert.Nil(t, target.Fake)
		assert.Equal(t, want, target.Client.BaseURL())
		assert.Contains(t, out.String(), want)
		assert.NotContains(t, out.String(), "example-token", "the token is never printed")
		target.Close()
	}
}

// The case of issue 9 #7: visengine-fake's two lines exported, and -sandbox
// (or nothing) on the command line. The fake's token must reach the fake,
// and the output must say so.
func TestOpenURLWinsAndReachesThatServer(t *testing.T) {
	srv := visenginetest.NewServer()
	defer srv.Close()
	for _, sandbox := range []bool{false, true} {
		var out bytes.Buffer
		target, err := Open(&out, vars(URLVar, srv.URL, TokenVar, srv.Token), sandbox)
		require.NoError(t, err)
		assert.Equal(t, Custom, target.Kind)
		assert.Nil(t, target.Fake, "not the embedded fake: the examples do not pay there without -pay")
		assert.Equal(t, srv.URL, target.Client.BaseURL())
		assert.Contains(t, out.String(), "Using the Visengine server named by VISENGINE_URL at "+srv.URL)
		assert.Equal(t, sandbox, bytes.Contains(out.Bytes(), []byte("-sandbox ignored")))
		assert.NotContains(t, out.String(), srv.Token)
		assert.NotContains(t, out.String(), visengine.SandboxURL)
		assert.NotContains(t, out.String(), visengine.ProductionURL)

		_, err = target.Client.ListVisure(context.Background())
		require.NoError(t, err, "the token in VISENGINE_TOKEN is accepted by that server")
		target.Close()
	}
	for _, r := range srv.Requests() {
		assert.Equal(t, "Bearer "+srv.Token, r.Header.Get("Authorization"))
	}
	assert.Len(t, srv.Requests(), 2)
}

func TestOpenRefusesPlainHTTPElsewhere(t *testing.T) {
	_, err := Open(new(bytes.Buffer), vars(URLVar, "http://example.com", TokenVar, "t"), false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), URLVar, "the error says where the URL came from")
}

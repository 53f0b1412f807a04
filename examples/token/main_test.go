package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/internal/maintest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine/visenginetest"
)

// TestMain lets the test binary play the command itself (maintest), so
// tests can check its exit status.
func TestMain(m *testing.M) { maintest.Main(m, main) }

// noAccountEnv makes the example use the embedded fake, whatever the
// developer's shell exports.
func noAccountEnv(t *testing.T) {
	for _, k := range []string{emailVar, apiKeyVar, oauthURLVar, visengineVar} {
		t.Setenv(k, "")
	}
}

// fakeEnv exports the account of a fake started by the test, as a user
// does with visengine-fake's lines.
func fakeEnv(t *testing.T, withVisengine bool) *visenginetest.Server {
	t.Helper()
	noAccountEnv(t)
	srv := visenginetest.NewServer(visenginetest.WithOwner("caf.rossi@example.it"))
	t.Cleanup(srv.Close)
	t.Setenv(emailVar, srv.Email)
	t.Setenv(apiKeyVar, srv.APIKey)
	t.Setenv(oauthURLVar, srv.OAuthURL)
	if withVisengine {
		t.Setenv(visengineVar, srv.URL)
	}
	return srv
}

func runExample(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var buf bytes.Buffer
	err := run(ctx, args, &buf)
	t.Log("\n" + buf.String())
	return buf.String(), err
}

func TestTokenOnEmbeddedFake(t *testing.T) {
	noAccountEnv(t)
	got, err := runExample(t)
	require.NoError(t, err)
	assert.Regexp(t, `^No OPENAPI_EMAIL and OPENAPI_APIKEY set: using the embedded fake \(Openapi's OAuth service and Visengine at http://127\.0\.0\.1:\d+; no account, nothing charged\)\.`, got)
	assert.Regexp(t, `Visengine token, expires \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in 720h0m0s\), scopes:\n`+
		`  GET:visengine2.altravia.com/visure\n  GET:visengine2.altravia.com/richiesta\n  POST:visengine2.altravia.com/richiesta\n`+
		`  PUT:visengine2.altravia.com/richiesta\n  GET:visengine2.altravia.com/documento\n`, got)
	assert.Contains(t, got, "\nWallet: €1000.00\n")
	assert.Regexp(t, `The token works on http://127\.0\.0\.1:\d+: GET /visure lists 92 services\.`, got)
	assert.Contains(t, got, "The credit pays for 41 A2 filings with urgenza (€24.00 each).")
	assert.Contains(t, got, "Token revoked: it was only for this run")
}

// With the fake's lines exported, the example talks to that fake: its
// OAuth service (which wins over -sandbox) and its Visengine. A stored
// token is reused by the next run, and the e-mail and key are never
// printed.
func TestTokenHonoursOAuthURLAndStore(t *testing.T) {
	srv := fakeEnv(t, true)
	srv.SetBalance(visengine.Cents(50_00))
	store := filepath.Join(t.TempDir(), "token.json")
	got, err := runExample(t, "-sandbox", "-readonly", "-store", store)
	require.NoError(t, err)
	assert.Contains(t, got, "-sandbox ignored: OPENAPI_OAUTH_URL is set and wins.")
	assert.Contains(t, got, "Using the OAuth service at "+srv.OAuthURL+" with the account in OPENAPI_EMAIL and OPENAPI_APIKEY.")
	assert.Contains(t, got, "  GET:visengine2.altravia.com/visure\n")
	assert.NotContains(t, got, "POST:", "-readonly asks for the GET scopes only")
	assert.Contains(t, got, "Wallet: €50.00")
	assert.Contains(t, got, "The token works on "+srv.URL+": GET /visure lists 92 services.")
	assert.Contains(t, got, "The credit pays for 2 A2 filings")
	assert.Contains(t, got, "Token kept in "+store)
	fi, err := os.Stat(store)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	_, err = runExample(t, "-readonly", "-store", store)
	require.NoError(t, err)
	created := 0
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost && r.Path == "/oauth/v2/tokens" {
			created++
		}
	}
	assert.Equal(t, 1, created, "the second run reused the stored token")
	for _, secret := range []string{srv.Email, srv.APIKey} {
		assert.NotContains(t, got, secret)
	}
}

func TestTokenWithoutVisengineURLOnlyGetsTheToken(t *testing.T) {
	srv := fakeEnv(t, false)
	got, err := runExample(t)
	require.NoError(t, err)
	assert.Contains(t, got, "Not trying the token: OPENAPI_OAUTH_URL is set but VISENGINE_URL is not.")
	assert.Contains(t, got, "Token revoked")
	for _, r := range srv.Requests() {
		assert.Regexp(t, regexp.MustCompile(`^/oauth/`), r.Path, "only the OAuth service is called")
	}
}

func TestTokenRefusesHalfAnAccount(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"e-mail only", map[string]string{emailVar: "caf@example.it"}, nil, "set both OPENAPI_EMAIL and OPENAPI_APIKEY"},
		{"key only", map[string]string{apiKeyVar: "k"}, nil, "set both OPENAPI_EMAIL and OPENAPI_APIKEY"},
		{"URL alone", map[string]string{oauthURLVar: "http://127.0.0.1:1/oauth/v2"}, nil, "OPENAPI_OAUTH_URL is set but"},
		{"sandbox without account", nil, []string{"-sandbox"}, "-sandbox needs a sandbox account"},
		{"wrong key", nil, nil, "getting a token: oauth: POST /tokens: HTTP 401"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			noAccountEnv(t)
			if tc.name == "wrong key" {
				fakeEnv(t, true)
				t.Setenv(apiKeyVar, "CANARYwrongkey")
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := runExample(t, tc.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "CANARY")
		})
	}
}

// -h prints the usage and exits 0, as the other examples do.
func TestHelpExitsZero(t *testing.T) {
	noAccountEnv(t)
	cmd := maintest.Command("-h")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "exit status not 0:\n%s", out)
	assert.Contains(t, string(out), "Usage of token")
	assert.Contains(t, string(out), "-store")
	assert.NotContains(t, string(out), "Wallet", "-h runs nothing")

	cmd = maintest.Command("-no-such-flag")
	out, err = cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "a bad flag fails:\n%s", out)
	assert.NotZero(t, exit.ExitCode())
}

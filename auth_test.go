package visengine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Token values that must never be printed.
const (
	canaryOld     = "CANARY0old0token0c0ffee0"
	canaryRenewed = "CANARY0new0token0c0ffee"
)

// testSource is a TokenRenewer that renews at most once per refused value,
// as package oauth's TokenSource does, and counts what it was asked.
type testSource struct {
	mu       sync.Mutex
	cur      Token
	tokens   int     // Token calls
	renewals int     // renewals that made a new token
	rejected []Token // what Renew was given
	renewErr error
	onRenew  func() // runs inside Renew, before it answers
}

func newTestSource(scopes ...string) *testSource {
	return &testSource{cur: Token{Value: canaryOld, Expiry: time.Now().Add(time.Hour), Scopes: scopes}}
}

func (s *testSource) Token(context.Context) (*Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens++
	t := s.cur
	return &t, nil
}

func (s *testSource) Renew(_ context.Context, rejected *Token) (*Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejected = append(s.rejected, *rejected)
	if s.onRenew != nil {
		s.onRenew()
	}
	if s.renewErr != nil {
		return nil, s.renewErr
	}
	if rejected.Value == s.cur.Value {
		s.renewals++
		s.cur.Value = fmt.Sprintf("%s%d", canaryRenewed, s.renewals)
	}
	t := s.cur
	return &t, nil
}

// plainSource can give a token but not renew it.
type plainSource struct{ tok Token }

func (p plainSource) Token(context.Context) (*Token, error) { t := p.tok; return &t, nil }

// sourceClient returns a client on url whose token comes from ts.
func sourceClient(t *testing.T, url string, ts TokenSource, opts ...Option) *Client {
	t.Helper()
	opts = append([]Option{WithBaseURL(url), WithRetry(3, time.Millisecond, 5*time.Millisecond), WithTokenSource(ts)}, opts...)
	c, err := NewClient("", opts...)
	require.NoError(t, err)
	return c
}

// tokenServer answers every request with 401 unless it carries the bearer
// token accepted says is good; it records each request.
type tokenServer struct {
	*countingServer
	mu     sync.Mutex
	auths  []string
	bodies []string
}

func newTokenServer(t *testing.T, accepted func(token string) bool, ok string) *tokenServer {
	ts := &tokenServer{}
	ts.countingServer = newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts.mu.Lock()
		ts.auths = append(ts.auths, r.Header.Get("Authorization"))
		ts.bodies = append(ts.bodies, string(body))
		ts.mu.Unlock()
		if !accepted(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")) {
			writeJSON(w, http.StatusUnauthorized, `{"data":null,"success":false,"message":"Unauthorized","error":401}`)
			return
		}
		writeJSON(w, http.StatusOK, ok)
	})
	return ts
}

func renewedOnly(tok string) bool { return strings.HasPrefix(tok, canaryRenewed) }

const paidRichiesta = `{"data":{"_id":"5f22f5b5065afc21cc60a27a","state":1,"hash_visura":"2631ec9b62135de4186f509fea7d954b","prezzo_visura":20},"success":true,"message":"","error":null}`

func paidParams() *RichiestaParams {
	return &RichiestaParams{HashVisura: "2631ec9b62135de4186f509fea7d954b", JSONVisura: Values{"$0": "Mario"}, State: StateSubmitted}
}

func TestNewClientTokenArguments(t *testing.T) {
	var nilSource *testSource
	cases := []struct {
		name  string
		token string
		opts  []Option
		want  string
	}{
		{"no token, no source", "", nil, "empty token"},
		{"token and source", "tok", []Option{WithTokenSource(newTestSource())}, "empty token with WithTokenSource"},
		{"nil source", "", []Option{WithTokenSource(nil)}, "WithTokenSource(nil)"},
		{"typed nil source", "", []Option{WithTokenSource(nilSource)}, "WithTokenSource(nil)"},
		{"empty scope host", "tok", []Option{WithScopeHost("")}, "WithScopeHost"},
		{"scope host with path", "tok", []Option{WithScopeHost("visengine2.altravia.com/x")}, "WithScopeHost"},
		{"scope host with wildcard", "tok", []Option{WithScopeHost("*.altravia.com")}, "WithScopeHost"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewClient(tc.token, tc.opts...)
			require.ErrorIs(t, err, ErrInvalidArgument)
			assert.Nil(t, c)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "tok ")
		})
	}
	c, err := NewClient("  ", WithTokenSource(newTestSource()))
	require.NoError(t, err, "a blank token counts as none")
	assert.Equal(t, ProductionURL, c.BaseURL())
}

// The source is asked for every attempt, so a retry carries the token the
// source holds by then.
func TestTokenSourceAskedPerAttempt(t *testing.T) {
	ts := newTestSource()
	var seen []string
	srv := newCountingServer(t, func(n int32, w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("Authorization"))
		ts.mu.Lock()
		ts.cur.Value = fmt.Sprintf("tok%d", n+1) // rotated by someone else meanwhile
		ts.mu.Unlock()
		if n == 1 {
			writeJSON(w, http.StatusServiceUnavailable, `{"data":null,"success":false,"message":"busy","error":503}`)
			return
		}
		writeJSON(w, http.StatusOK, `{"data":[],"success":true,"message":"","error":null}`)
	})
	_, err := sourceClient(t, srv.URL, ts).ListVisure(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"Bearer " + canaryOld, "Bearer tok2"}, seen)
}

// A 401 on a paid POST: the token is renewed once (with the value that was
// refused) and the same body sent once more, and the call succeeds.
func TestUnauthorizedPaidPostRenewedAndResentOnce(t *testing.T) {
	ts := newTestSource()
	srv := newTokenServer(t, renewedOnly, paidRichiesta)
	r, err := sourceClient(t, srv.URL, ts).CreateRichiesta(context.Background(), paidParams())
	require.NoError(t, err)
	assert.Equal(t, StateSubmitted, r.State)
	assert.EqualValues(t, 2, srv.hits.Load())
	assert.Equal(t, []string{"Bearer " + canaryOld, "Bearer " + canaryRenewed + "1"}, srv.auths)
	assert.Equal(t, srv.bodies[0], srv.bodies[1], "the same body, byte for byte")
	assert.Equal(t, 1, ts.renewals)
	require.Len(t, ts.rejected, 1)
	assert.Equal(t, canaryOld, ts.rejected[0].Value, "Renew is told which token was refused")
}

// A second 401 is returned as it is: one renewal, one resend, no loop.
func TestSecondUnauthorizedIsReturned(t *testing.T) {
	ts := newTestSource()
	srv := newTokenServer(t, func(string) bool { return false }, paidRichiesta)
	_, err := sourceClient(t, srv.URL, ts).CreateRichiesta(context.Background(), paidParams())
	require.ErrorIs(t, err, ErrUnauthorized)
	assert.NotErrorIs(t, err, ErrOutcomeUnknown, "a 401 means not applied")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusUnauthorized, apiErr.StatusCode)
	assert.Equal(t, "POST", apiErr.Method)
	assert.EqualValues(t, 2, srv.hits.Load())
	assert.Equal(t, 1, ts.renewals)
}

// Without a renewer (a fixed token, a source that cannot renew) a 401 is
// returned after one request.
func TestUnauthorizedWithoutRenewerIsNotResent(t *testing.T) {
	srv := newTokenServer(t, func(string) bool { return false }, paidRichiesta)
	for name, c := range map[string]*Client{
		"fixed token":  newTestClient(t, srv.URL),
		"plain source": sourceClient(t, srv.URL, plainSource{Token{Value: canaryOld}}),
	} {
		before := srv.hits.Load()
		_, err := c.CreateRichiesta(context.Background(), paidParams())
		require.ErrorIs(t, err, ErrUnauthorized, name)
		assert.EqualValues(t, 1, srv.hits.Load()-before, name)
	}
}

// A renewal that fails ends the call with the 401 and the renewal's error,
// both matchable, after one request.
func TestFailedRenewalReturnsBoth(t *testing.T) {
	ts := newTestSource()
	ts.renewErr = errors.New("oauth service down")
	srv := newTokenServer(t, renewedOnly, paidRichiesta)
	_, err := sourceClient(t, srv.URL, ts).CreateRichiesta(context.Background(), paidParams())
	require.ErrorIs(t, err, ErrUnauthorized)
	assert.ErrorIs(t, err, ts.renewErr)
	assert.NotErrorIs(t, err, ErrOutcomeUnknown)
	assert.Contains(t, err.Error(), "renewing the token failed: oauth service down")
	assert.Equal(t, 1, strings.Count(err.Error(), "visengine: "), err.Error())
	assert.EqualValues(t, 1, srv.hits.Load())
}

// The refused attempt does not count as "maybe sent": when the resend
// never leaves (the context ended during the renewal), the POST reports a
// plain cancellation, not an unknown outcome.
func TestRefusedAttemptIsNotAnUnknownOutcome(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ts := newTestSource()
	ts.onRenew = cancel
	srv := newTokenServer(t, renewedOnly, paidRichiesta)
	_, err := sourceClient(t, srv.URL, ts).CreateRichiesta(ctx, paidParams())
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, ErrOutcomeUnknown)
	assert.EqualValues(t, 1, srv.hits.Load())
}

// A resend that may have arrived is an unknown outcome like any other,
// dated by the resend.
func TestResendDroppedIsUnknown(t *testing.T) {
	ts := newTestSource()
	var firstAt time.Time
	srv := newCountingServer(t, func(n int32, w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		if n == 1 {
			firstAt = time.Now()
			time.Sleep(20 * time.Millisecond)
			writeJSON(w, http.StatusUnauthorized, `{"data":null,"success":false,"message":"Unauthorized","error":401}`)
			return
		}
		drop(w)
	})
	_, err := sourceClient(t, srv.URL, ts).CreateRichiesta(context.Background(), paidParams())
	var unknown *OutcomeUnknownError
	require.ErrorAs(t, err, &unknown)
	assert.True(t, unknown.SentAt.After(firstAt), "SentAt is the resend's, not the refused attempt's")
	assert.EqualValues(t, 2, srv.hits.Load(), "the POST is not sent a third time")
}

func TestMissingScopeSendsNothing(t *testing.T) {
	readOnly := []string{"GET:visengine2.altravia.com/visure", "GET:visengine2.altravia.com/richiesta", "GET:visengine2.altravia.com/documento"}
	srv := newTokenServer(t, func(string) bool { return true }, `{"data":[],"success":true,"message":"","error":null}`)
	c := sourceClient(t, srv.URL, newTestSource(readOnly...))
	ctx := context.Background()

	_, err := c.CreateRichiesta(ctx, paidParams())
	require.ErrorIs(t, err, ErrMissingScope)
	assert.Contains(t, err.Error(), "POST:visengine2.altravia.com/richiesta")
	assert.Equal(t, "visengine: POST /richiesta not sent: token lacks the scope for this call: POST:visengine2.altravia.com/richiesta", err.Error())
	_, err = c.ChooseRisultato(ctx, "5f22f5b5065afc21cc60a27a", "5f22f5b5065afc21cc60a27a_0", 0)
	require.ErrorIs(t, err, ErrMissingScope)
	assert.Contains(t, err.Error(), "PUT:visengine2.altravia.com/richiesta", "the first segment decides")
	a2 := decodeVisura(t, "visura_a2.json")
	_, err = c.Submit(ctx, a2, validA2Values(t))
	require.ErrorIs(t, err, ErrMissingScope)
	assert.EqualValues(t, 0, srv.hits.Load(), "nothing sent")

	_, err = c.ListVisure(ctx)
	require.NoError(t, err, "a scope the token has")
	assert.EqualValues(t, 1, srv.hits.Load())
}

// Which host a scope names: the environment's for production and the
// sandbox, WithScopeHost's, or the one Visengine host the token's scopes
// name; no local check when it cannot be told.
func TestScopeHost(t *testing.T) {
	srv := newTokenServer(t, func(string) bool { return true }, `{"data":[],"success":true,"message":"","error":null}`)
	prod := func(m, seg string) string { return m + ":visengine2.altravia.com/" + seg }
	sand := func(m, seg string) string { return m + ":test.visengine2.altravia.com/" + seg }
	cases := []struct {
		name    string
		opts    []Option
		scopes  []string
		missing string // "" when the call must be sent
	}{
		{"sandbox client, production token", []Option{WithSandbox()}, []string{prod("GET", "visure")}, sand("GET", "visure")},
		{"production client, sandbox token", []Option{WithBaseURL(ProductionURL)}, []string{sand("GET", "visure")}, prod("GET", "visure")},
		{"proxy, sandbox token lacking it", nil, []string{sand("GET", "richiesta")}, sand("GET", "visure")},
		{"proxy, explicit host", []Option{WithScopeHost("TEST.visengine2.altravia.com")}, []string{prod("GET", "visure")}, sand("GET", "visure")},
		{"proxy, token of another API too", nil, []string{"GET:imprese.openapi.it/base", prod("GET", "richiesta")}, prod("GET", "visure")},
		{"proxy, production token", nil, []string{prod("GET", "visure")}, ""},
		{"proxy, wildcard of the host", nil, []string{"*:visengine2.altravia.com/*"}, ""},
		{"proxy, two hosts: cannot tell", nil, []string{prod("GET", "richiesta"), sand("GET", "richiesta")}, ""},
		{"proxy, only wildcards: cannot tell", nil, []string{"*:*/*"}, ""},
		{"scopes unknown", nil, nil, ""},
		{"host known, scopes unknown", []Option{WithScopeHost("visengine2.altravia.com")}, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := srv.hits.Load()
			opts := append([]Option{WithBaseURL(srv.URL)}, tc.opts...)
			c, err := NewClient("", append(opts, WithTokenSource(newTestSource(tc.scopes...)), WithRetry(1, 0, 0))...)
			require.NoError(t, err)
			_, err = c.ListVisure(context.Background())
			if tc.missing == "" {
				require.NoError(t, err)
				assert.EqualValues(t, 1, srv.hits.Load()-before)
				return
			}
			require.ErrorIs(t, err, ErrMissingScope)
			assert.True(t, strings.HasSuffix(err.Error(), ": "+tc.missing), err.Error())
			assert.EqualValues(t, 0, srv.hits.Load()-before)
		})
	}
}

// A source that fails gives an error that says nothing was sent, and sends
// nothing.
func TestTokenSourceFailureSendsNothing(t *testing.T) {
	srv := newTokenServer(t, func(string) bool { return true }, paidRichiesta)
	c := sourceClient(t, srv.URL, failingSource{errors.New("vault sealed")})
	_, err := c.CreateRichiesta(context.Background(), paidParams())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "POST /richiesta not sent: no token: vault sealed")
	assert.NotErrorIs(t, err, ErrOutcomeUnknown)
	var se *SubmitError
	assert.False(t, errors.As(err, &se))
	_, err = sourceClient(t, srv.URL, plainSource{}).ListVisure(context.Background())
	require.Error(t, err, "an empty token is refused before sending")
	assert.EqualValues(t, 0, srv.hits.Load())
}

type failingSource struct{ err error }

func (f failingSource) Token(context.Context) (*Token, error) { return nil, f.err }

// Logs at debug level and errors of the renewal path never show a token.
func TestTokenCanariesInLogsAndErrors(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ts := newTestSource("POST:visengine2.altravia.com/richiesta")
	srv := newTokenServer(t, renewedOnly, paidRichiesta)
	c := sourceClient(t, srv.URL, ts, WithLogger(logger))
	ctx := context.Background()
	_, err := c.CreateRichiesta(ctx, paidParams())
	require.NoError(t, err)
	var errs []error
	_, err = c.ListVisure(ctx) // missing scope
	errs = append(errs, err)
	ts.renewErr = errors.New("refused")
	ts.mu.Lock()
	ts.cur.Value = canaryOld // refused by the server
	ts.mu.Unlock()
	_, err = c.CreateRichiesta(ctx, paidParams())
	errs = append(errs, err)
	out := logs.String()
	assert.Contains(t, out, "visengine token refused, renewed; sending again")
	assert.Contains(t, out, "visengine token refused, renewal failed")
	for _, e := range errs {
		require.Error(t, e)
		out += e.Error() + fmt.Sprintf("%v %+v %#v", e, e, e)
	}
	out += fmt.Sprintf("%v %+v %#v", c, c, c)
	assert.NotContains(t, out, "CANARY")
}

// flakySource gives a token once, for the scope check, then fails as an
// SDK source does, with an error of its own "visengine: " prefix.
type flakySource struct{ calls atomic.Int32 }

func (f *flakySource) Token(context.Context) (*Token, error) {
	if f.calls.Add(1) == 1 {
		return &Token{Value: canaryOld}, nil
	}
	return nil, errors.New("visengine: oauth: token expired and not renewed")
}

// A token the source fails to give for the attempt itself (after the scope
// check had one) stops the call before it is sent, with one prefix.
func TestTokenFailingAtTheAttemptHasOnePrefix(t *testing.T) {
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, `{"data":[],"success":true}`)
	})
	_, err := sourceClient(t, srv.URL, &flakySource{}).ListVisure(context.Background())
	require.Error(t, err)
	assert.EqualValues(t, 0, srv.hits.Load(), "nothing sent")
	assert.Equal(t, 1, strings.Count(err.Error(), "visengine: "), "%q", err)
	assert.Contains(t, err.Error(), "token expired")
}

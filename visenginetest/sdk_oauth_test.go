package visenginetest_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/oauth"
	"github.com/visengine-go/visengine/visenginetest"
)

// These tests join the three pieces a user joins: an Openapi account
// (package oauth, against the fake's OAuth service), a token source, and a
// visengine.Client that takes its token from it, against the fake's
// Visengine, which accepts the tokens the OAuth service issued.

// clock is a settable time for the fake's tokens and the token source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// account returns an OAuth v2 client for the fake's account.
func account(t *testing.T, srv *visenginetest.Server, opts ...oauth.Option) *oauth.Client {
	t.Helper()
	oc, err := oauth.NewClient(srv.Email, srv.APIKey, append([]oauth.Option{oauth.WithBaseURL(srv.OAuthURL)}, opts...)...)
	require.NoError(t, err)
	return oc
}

// tokenSource returns a TokenSource over the fake's account.
func tokenSource(t *testing.T, oc *oauth.Client, opts ...oauth.TokenSourceOption) *oauth.TokenSource {
	t.Helper()
	ts, err := oauth.NewTokenSource(oc, opts...)
	require.NoError(t, err)
	return ts
}

// sourceClient returns a visengine.Client for srv taking its token from ts.
func sourceClient(t *testing.T, srv *visenginetest.Server, ts visengine.TokenSource, opts ...visengine.Option) *visengine.Client {
	t.Helper()
	base := []visengine.Option{visengine.WithBaseURL(srv.URL), visengine.WithRetry(4, time.Millisecond, 20*time.Millisecond), visengine.WithTokenSource(ts)}
	c, err := visengine.NewClient("", append(base, opts...)...)
	require.NoError(t, err)
	return c
}

// apiRequests keeps the requests to Visengine, leaving out the OAuth
// service's.
func apiRequests(reqs []visenginetest.Request) []visenginetest.Request {
	var out []visenginetest.Request
	for _, r := range reqs {
		if !strings.HasPrefix(r.Path, "/oauth/") {
			out = append(out, r)
		}
	}
	return out
}

// bearer returns the token a request carried.
func bearer(r visenginetest.Request) string {
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}

// The OAuth service is served by the fake, v2 and v1, with the account's
// credentials; its tokens work on the fake's Visengine; its wallet is the
// one Visengine charges.
func TestFakeServesOAuth(t *testing.T) {
	srv, _ := fake(t, visenginetest.WithWallet(visengine.Cents(100_00)))
	ctx := testCtx(t)
	assert.Equal(t, srv.URL+"/oauth/v2", srv.OAuthURL)
	assert.Equal(t, srv.URL+"/oauth/v1", srv.OAuthV1URL)
	assert.Equal(t, "test@example.com", srv.Email)
	assert.Len(t, srv.APIKey, 32)

	for name, oc := range map[string]*oauth.Client{
		"v2": account(t, srv),
		"v1": account(t, srv, oauth.WithV1(), oauth.WithBaseURL(srv.OAuthV1URL)),
	} {
		info, err := oc.CreateToken(ctx, oauth.CreateTokenParams{Scopes: oauth.VisengineScopes(false), TTL: time.Hour})
		require.NoError(t, err, name)
		assert.ElementsMatch(t, oauth.VisengineScopes(false), info.Scopes, name)
		assert.WithinDuration(t, time.Now().Add(time.Hour), info.ExpiresAt, time.Minute, name)
		c, err := visengine.NewClient(info.Token, visengine.WithBaseURL(srv.URL))
		require.NoError(t, err)
		list, err := c.ListVisure(ctx)
		require.NoError(t, err, name)
		assert.Len(t, list, 92, name)
		credit, err := oc.Credit(ctx)
		require.NoError(t, err, name)
		assert.Equal(t, srv.Balance(), credit, name)
	}

	// One wallet: what Visengine charges, the OAuth service shows.
	c := srv.Client()
	_, err := c.Submit(ctx, getVisura(t, c, hashA2), applicant(0))
	require.NoError(t, err)
	credit, err := account(t, srv).Credit(ctx)
	require.NoError(t, err)
	assert.Equal(t, visengine.Cents(80_00), credit)

	wrong, err := oauth.NewClient(srv.Email, "not-the-key", oauth.WithBaseURL(srv.OAuthURL))
	require.NoError(t, err)
	_, err = wrong.Credit(ctx)
	assert.ErrorIs(t, err, visengine.ErrUnauthorized)
}

// The fake enforces scopes and expiry on the tokens its OAuth service
// issued: 401 for an unknown, revoked or expired token, 403 for a call
// outside the token's scopes; its own Token may do everything.
func TestFakeEnforcesTokens(t *testing.T) {
	clk := newClock()
	srv, _ := fake(t, visenginetest.WithTokenClock(clk.now))
	readOnly := srv.IssueToken(time.Hour, oauth.VisengineReadOnlyScopes(false)...)
	body := `{"hash_visura":"` + hashA2 + `","state":0,"json_visura":{"$0":"Mario"}}`

	a := callAs(t, srv, readOnly, http.MethodPost, "/richiesta", body)
	assert.Equal(t, http.StatusForbidden, a.status)
	assert.JSONEq(t, `{"success":false,"message":"Forbidden: the token lacks the scope POST:visengine2.altravia.com/richiesta","error":403,"data":null}`, a.body)
	assert.Equal(t, http.StatusOK, callAs(t, srv, readOnly, http.MethodGet, "/visure", "").status)
	assert.Equal(t, http.StatusOK, callAs(t, srv, srv.Token, http.MethodPost, "/richiesta", body).status, "the server's token may do everything")
	assert.Equal(t, http.StatusUnauthorized, callAs(t, srv, "5f8711afe4754a532a7a8358", http.MethodGet, "/visure", "").status)

	wild := srv.IssueToken(time.Hour, "*:visengine2.altravia.com/*")
	assert.Equal(t, http.StatusOK, callAs(t, srv, wild, http.MethodPost, "/richiesta", body).status)
	sandbox := srv.IssueToken(time.Hour, oauth.VisengineScopes(true)...)
	assert.Equal(t, http.StatusForbidden, callAs(t, srv, sandbox, http.MethodGet, "/visure", "").status, "sandbox scopes are another host")

	clk.add(time.Hour)
	a = callAs(t, srv, readOnly, http.MethodGet, "/visure", "")
	assert.Equal(t, http.StatusUnauthorized, a.status, "expired")
	assert.JSONEq(t, `{"success":false,"message":"Unauthorized: missing or invalid bearer token","error":401,"data":null}`, a.body)

	fresh := srv.IssueToken(time.Hour, oauth.VisengineScopes(false)...)
	require.NoError(t, account(t, srv).RevokeToken(testCtx(t), fresh))
	assert.Equal(t, http.StatusUnauthorized, callAs(t, srv, fresh, http.MethodGet, "/visure", "").status, "revoked")

	// As the sandbox: the scopes must carry "test.".
	sb, _ := fake(t, visenginetest.WithScopeHost("test.visengine2.altravia.com"))
	assert.Equal(t, http.StatusOK, callAs(t, sb, sb.IssueToken(time.Hour, oauth.VisengineScopes(true)...), http.MethodGet, "/visure", "").status)
	assert.Equal(t, http.StatusForbidden, callAs(t, sb, sb.IssueToken(time.Hour, oauth.VisengineScopes(false)...), http.MethodGet, "/visure", "").status)
}

type rawAnswer struct {
	status int
	body   string
}

func callAs(t *testing.T, srv *visenginetest.Server, token, method, path, body string) rawAnswer {
	t.Helper()
	req, err := http.NewRequestWithContext(testCtx(t), method, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return rawAnswer{resp.StatusCode, b.String()}
}

// 100 callers whose token was revoked all get a 401 and renew it: exactly
// one renewal reaches the OAuth service, and no call fails.
func TestRenewalUnder100ConcurrentCallers(t *testing.T) {
	srv, _ := fake(t)
	ctx := testCtx(t)
	oc := account(t, srv)
	ts := tokenSource(t, oc)
	const callers = 100
	// The requests carrying the revoked token are held until every caller
	// has sent one, so that none hears its 401 before the others have taken
	// the old token from the source (a caller that asks the source during
	// the renewal waits for it and never sends the old token). A delay on
	// the server cannot do it: the fake answers a revoked token's 401
	// before any fault.
	g := &revokedGate{n: callers, all: make(chan struct{}), next: http.DefaultTransport}
	c := sourceClient(t, srv, ts, visengine.WithHTTPClient(&http.Client{Transport: g}))
	_, err := c.GetVisura(ctx, hashA2)
	require.NoError(t, err)
	old, err := ts.Token(ctx)
	require.NoError(t, err)
	require.NoError(t, oc.RevokeToken(ctx, old.Value))
	g.revoked.Store("Bearer " + old.Value)
	// The renewal takes a while, so the refused callers queue for it.
	srv.Fault(http.MethodPost, "/oauth/v2/tokens", visenginetest.Fault{Delay: 50 * time.Millisecond})
	n := len(srv.Requests())

	var wg sync.WaitGroup
	var failed atomic.Int32
	start := make(chan struct{})
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, err := c.GetVisura(ctx, hashA2); err != nil {
				failed.Add(1)
				t.Log(err)
			}
		}()
	}
	close(start)
	wg.Wait()

	reqs := since(srv, n)
	assert.Zero(t, failed.Load(), "no call fails")
	assert.Equal(t, 1, count(reqs, http.MethodPost, "/oauth/v2/tokens"), "exactly one renewal:\n%s", summary(reqs))
	refused := 0
	for _, r := range apiRequests(reqs) {
		if bearer(r) == old.Value {
			refused++
		}
	}
	assert.Equal(t, callers, refused, "every caller was refused, and they shared the renewal")
	assert.Equal(t, callers+refused, len(apiRequests(reqs)), "each refused call was sent once more, no more")
}

// revokedGate holds the first n requests carrying the revoked
// Authorization until all n have come.
type revokedGate struct {
	n       int32
	revoked atomic.Value // string: "Bearer " and the revoked token
	arrived atomic.Int32
	all     chan struct{}
	next    http.RoundTripper
}

func (g *revokedGate) RoundTrip(r *http.Request) (*http.Response, error) {
	if v, _ := g.revoked.Load().(string); v != "" && r.Header.Get("Authorization") == v {
		if k := g.arrived.Add(1); k == g.n {
			close(g.all)
		} else if k < g.n {
			select {
			case <-g.all:
			case <-r.Context().Done():
				return nil, r.Context().Err()
			}
		}
	}
	return g.next.RoundTrip(r)
}

// A token that expires mid-run is renewed without a failed call: ahead of
// its expiry, by the source's clock, and after a 401 when the source did
// not see it coming (its clock behind the server's).
func TestTokenExpiringMidRunRenewedWithoutFailedCall(t *testing.T) {
	t.Run("ahead of expiry", func(t *testing.T) {
		clk := newClock()
		srv, _ := fake(t, visenginetest.WithTokenClock(clk.now))
		ts := tokenSource(t, account(t, srv), oauth.WithTTL(time.Hour), oauth.WithClock(clk.now))
		c := sourceClient(t, srv, ts)
		for minute := 0; minute < 180; minute += 5 {
			_, err := c.ListRichieste(testCtx(t))
			require.NoError(t, err, "minute %d", minute)
			clk.add(5 * time.Minute)
		}
		reqs := srv.Requests()
		assert.Equal(t, 1, count(reqs, http.MethodPost, "/oauth/v2/tokens"), "created once")
		assert.GreaterOrEqual(t, count(reqs, http.MethodPatch, "/oauth/v2/tokens/*"), 3, "extended before each expiry")
		assert.Len(t, apiRequests(reqs), 36, "one request per call: none refused")
	})
	t.Run("behind the server's clock", func(t *testing.T) {
		server, source := newClock(), newClock()
		srv, _ := fake(t, visenginetest.WithTokenClock(server.now))
		ts := tokenSource(t, account(t, srv), oauth.WithTTL(time.Hour), oauth.WithClock(source.now))
		c := sourceClient(t, srv, ts)
		_, err := c.ListRichieste(testCtx(t))
		require.NoError(t, err)
		server.add(2 * time.Hour) // expired for the server, fresh for the source
		_, err = c.ListRichieste(testCtx(t))
		require.NoError(t, err, "renewed after the 401, then sent again")
		reqs := srv.Requests()
		assert.Equal(t, 2, count(reqs, http.MethodPost, "/oauth/v2/tokens"), "created, then created again after the 401")
		api := apiRequests(reqs)
		require.Len(t, api, 3)
		assert.Equal(t, bearer(api[0]), bearer(api[1]), "the expired token was refused")
		assert.NotEqual(t, bearer(api[1]), bearer(api[2]), "and the call sent again with the new one")
	})
}

// A 401 on a paid POST (the token revoked mid-run) is retried once, and the
// wallet charged once.
func TestUnauthorizedPaidPostChargedOnce(t *testing.T) {
	srv, _ := fake(t)
	ctx := testCtx(t)
	oc := account(t, srv)
	ts := tokenSource(t, oc)
	c := sourceClient(t, srv, ts)
	v := getVisura(t, c, hashA2)
	tok, err := ts.Token(ctx)
	require.NoError(t, err)
	require.NoError(t, oc.RevokeToken(ctx, tok.Value))
	n := len(srv.Requests())

	r, err := c.CreateRichiesta(ctx, &visengine.RichiestaParams{HashVisura: hashA2, JSONVisura: applicant(1), State: visengine.StateSubmitted, Visura: v})
	require.NoError(t, err)
	assert.Equal(t, visengine.StateSubmitted, r.State)
	reqs := since(srv, n)
	assert.Equal(t, 2, count(reqs, http.MethodPost, "/richiesta"), "refused, then sent once more:\n%s", summary(reqs))
	assert.Equal(t, 1, count(reqs, http.MethodPost, "/oauth/v2/tokens"))
	charges, total := srv.Charges()
	assert.Equal(t, 1, charges)
	assert.Equal(t, visengine.Cents(20_00), total)
}

// Submit's close, the paid step, refused because the token was revoked
// between the draft and the close: renewed, closed once, charged once.
func TestUnauthorizedCloseChargedOnce(t *testing.T) {
	srv, _ := fake(t)
	ctx := testCtx(t)
	oc := account(t, srv)
	ts := tokenSource(t, oc)
	var revoked atomic.Bool
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodPut && !revoked.Swap(true) {
			tok, err := ts.Token(r.Context())
			if err == nil {
				err = oc.RevokeToken(r.Context(), tok.Value)
			}
			if err != nil {
				return nil, err
			}
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	c := sourceClient(t, srv, ts, visengine.WithHTTPClient(hc))
	r, err := c.Submit(ctx, getVisura(t, c, hashA2), applicant(2), visengine.WithOpzioni("urgenza"))
	require.NoError(t, err)
	assert.Equal(t, visengine.StateSubmitted, r.State)
	// The refused close is answered 401 before its body is read, so it is
	// recorded without one.
	unread := 0
	for _, req := range srv.Requests() {
		if req.Method == http.MethodPut && req.Path == "/richiesta/"+r.ID && req.Body == nil {
			unread++
		}
	}
	assert.Equal(t, 1, unread, "the refused close")
	assert.Equal(t, 1, closes(srv.Requests(), r.ID), "the close after the renewal")
	charges, total := srv.Charges()
	assert.Equal(t, 1, charges)
	assert.Equal(t, visengine.Cents(24_00), total)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A token whose scopes are known and lack the call's fails before anything
// reaches Visengine; one whose scopes the client does not know is refused
// by the fake with 403, which is not renewed.
func TestMissingScopeSendsNothing(t *testing.T) {
	srv, _ := fake(t)
	ctx := testCtx(t)
	ts := tokenSource(t, account(t, srv), oauth.WithScopes(oauth.VisengineReadOnlyScopes(false)...))
	c := sourceClient(t, srv, ts)
	v := getVisura(t, c, hashA2)
	n := len(srv.Requests())

	_, err := c.Submit(ctx, v, applicant(3))
	require.ErrorIs(t, err, visengine.ErrMissingScope)
	assert.Contains(t, err.Error(), "POST:visengine2.altravia.com/richiesta")
	assert.Empty(t, apiRequests(since(srv, n)), "nothing sent to Visengine")

	static, err := visengine.NewClient(srv.IssueToken(time.Hour, oauth.VisengineReadOnlyScopes(false)...), visengine.WithBaseURL(srv.URL))
	require.NoError(t, err)
	n = len(srv.Requests())
	_, err = static.Submit(ctx, v, applicant(3))
	require.ErrorIs(t, err, visengine.ErrUnauthorized)
	var apiErr *visengine.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusForbidden, apiErr.StatusCode)
	assert.Len(t, since(srv, n), 1, "one refused request")
	count, _ := srv.Charges()
	assert.Zero(t, count)
}

// The wallet is checked before the draft: too little credit sends nothing
// to Visengine; enough lets Submit pay, options included.
func TestCreditCheckAgainstTheFakesWallet(t *testing.T) {
	srv, c := fake(t, visenginetest.WithWallet(visengine.Cents(23_99)))
	ctx := testCtx(t)
	oc := account(t, srv)
	v := getVisura(t, c, hashA2)
	n := len(srv.Requests())

	_, err := c.Submit(ctx, v, applicant(4), visengine.WithOpzioni("urgenza"), visengine.WithCreditCheck(oc))
	require.ErrorIs(t, err, visengine.ErrInsufficientCredit)
	assert.Contains(t, err.Error(), "the wallet holds €23.99, the richiesta costs €24.00")
	reqs := since(srv, n)
	assert.Empty(t, apiRequests(reqs), "no request to Visengine")
	assert.Equal(t, 1, count(reqs, http.MethodGet, "/oauth/v2/wallet"))

	srv.SetBalance(visengine.Cents(24_00))
	_, err = c.Submit(ctx, v, applicant(4), visengine.WithOpzioni("urgenza"), visengine.WithCreditCheck(oc))
	require.NoError(t, err)
	credit, err := oc.Credit(ctx)
	require.NoError(t, err)
	assert.Zero(t, credit)
}

// The account's e-mail and API key, the tokens and the refresh tokens
// never appear in the Client path's logs (debug level) or errors.
func TestOAuthCanaries(t *testing.T) {
	const email, key = "canary.email@example.it", "CANARYapikey0000000000000000beef"
	clk := newClock()
	srv, _ := fake(t, visenginetest.WithOwner(email), visenginetest.WithAPIKey(key), visenginetest.WithTokenClock(clk.now))
	ctx := testCtx(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	oc := account(t, srv, oauth.WithLogger(logger))
	ts := tokenSource(t, oc)
	c := sourceClient(t, srv, ts, visengine.WithLogger(logger))
	var errs []error
	keep := func(_ any, err error) { errs = append(errs, err) }

	v := getVisura(t, c, hashA2)
	tok, err := ts.Token(ctx)
	require.NoError(t, err)
	require.NoError(t, oc.RevokeToken(ctx, tok.Value))
	keep(c.Submit(ctx, v, applicant(5), visengine.WithCreditCheck(oc))) // 401, renewed
	clk.add(400 * 24 * time.Hour)                                       // expire everything
	keep(c.ListRichieste(ctx))                                          // renewed again

	// Failures: a wrong key (renewal refused), a token lacking a scope.
	wrong, err := oauth.NewClient(email, key+"x", oauth.WithBaseURL(srv.OAuthURL), oauth.WithLogger(logger))
	require.NoError(t, err)
	keep(sourceClient(t, srv, tokenSource(t, wrong), visengine.WithLogger(logger)).ListVisure(ctx))
	ro := tokenSource(t, oc, oauth.WithScopes(oauth.VisengineReadOnlyScopes(false)...))
	keep(sourceClient(t, srv, ro, visengine.WithLogger(logger)).Submit(ctx, v, applicant(6)))
	stale := sourceClient(t, srv, staticSource{tok.Value}, visengine.WithLogger(logger))
	keep(stale.ListVisure(ctx))
	keep(c.Submit(ctx, v, applicant(7), visengine.WithCreditCheck(wrong)))

	tokens, err := oc.ListTokens(ctx)
	require.NoError(t, err)
	secrets := []string{email, key, tok.Value}
	for _, ti := range tokens {
		secrets = append(secrets, ti.Token, ti.RefreshToken)
	}
	out := logs.String()
	failures := 0
	for _, e := range errs {
		if e != nil {
			failures++
			out += fmt.Sprintf("\n%s %v %+v %#v", e.Error(), e, e, e)
		}
	}
	out += fmt.Sprintf("\n%v %+v %#v %v %+v %#v", c, c, c, ts, ts, ts)
	require.NoError(t, errs[0], "the submit went through after the renewal")
	require.NoError(t, errs[1], "and the call after every token expired")
	assert.Equal(t, len(errs)-2, failures, "the failures happened: %v", errs)
	assert.Contains(t, out, "visengine token refused, renewed; sending again")
	assert.Greater(t, len(tokens), 2)
	for _, s := range secrets {
		require.NotEmpty(t, s)
		assert.NotContains(t, out, s)
	}
}

// staticSource gives one token and cannot renew it.
type staticSource struct{ value string }

func (s staticSource) Token(context.Context) (*visengine.Token, error) {
	return &visengine.Token{Value: s.value}, nil
}

// An owner HTTP Basic auth cannot carry leaves the OAuth account on the
// default e-mail, and an empty API key stays random: no setup panics.
func TestOAuthAccountFallbacks(t *testing.T) {
	for _, owner := range []string{"", "a:b@example.it"} {
		srv, _ := fake(t, visenginetest.WithOwner(owner), visenginetest.WithAPIKey(""))
		assert.Equal(t, "test@example.com", srv.Email)
		assert.Len(t, srv.APIKey, 32)
		_, err := account(t, srv).Credit(testCtx(t))
		assert.NoError(t, err)
	}
	srv, _ := fake(t, visenginetest.WithOwner("caf@example.it"), visenginetest.WithAPIKey("k3y"))
	assert.Equal(t, "caf@example.it", srv.Email)
	assert.Equal(t, "k3y", srv.APIKey)
}

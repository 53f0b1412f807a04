package oauth

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine/internal/oauthfake"
)

// Canaries: none of these may appear in an error, a log line or printed
// value.
const (
	canaryEmail   = "canary.mailbox@example.it"
	canaryKey     = "CANARYapikey0s3cr3tVALUE"
	canaryToken   = "ca7a12e5ca7a12e5ca7a12e5"   // 24 hex, like Openapi's
	canaryRefresh = "REFRESHca7a12e5ca7a12e5ref" // not hex: caught by exact match only
)

// basicAuth is the Authorization header the canary account must send.
var basicAuth = "Basic " + base64.StdEncoding.EncodeToString([]byte(canaryEmail+":"+canaryKey))

// clock is a settable time for the token source and the fake.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeWallet is a fixed balance.
type fakeWallet int64

func (w fakeWallet) BalanceMicros() int64 { return int64(w) * 10_000 } // w in cents

// fake is the OAuth fake on loopback, counting requests by "METHOD path
// pattern" (token ids replaced by {token}).
type fake struct {
	*oauthfake.Server
	srv   *httptest.Server
	clock *clock
	mu    sync.Mutex
	calls map[string]int
	fail  atomic.Int32 // status to answer instead of the fake's, when set
	gate  chan struct{}
}

func newFake(t testing.TB, opts ...oauthfake.Option) *fake {
	t.Helper()
	f := &fake{clock: newClock(), calls: map[string]int{}}
	opts = append([]oauthfake.Option{oauthfake.WithClock(f.clock.Now), oauthfake.WithWallet(fakeWallet(42338))}, opts...)
	s, err := oauthfake.New(canaryEmail, canaryKey, opts...)
	require.NoError(t, err)
	f.Server = s
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.calls[r.Method+" "+routeOf(r.URL.Path)]++
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if s := f.fail.Load(); s != 0 {
		http.Error(w, `{"success":false,"message":"down","error":null,"data":null}`, int(s))
		return
	}
	f.Server.ServeHTTP(w, r)
}

// routeOf replaces a token id in a path with {token}.
func routeOf(p string) string {
	for _, prefix := range []string{"/v2/tokens/", "/v1/token/"} {
		if len(p) > len(prefix) && p[:len(prefix)] == prefix {
			return prefix + "{token}"
		}
	}
	return p
}

func (f *fake) count(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[key]
}

func (f *fake) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		n += c
	}
	return n
}

// client returns an oauth client on the fake, v2 or v1.
func (f *fake) client(t testing.TB, v1 bool, opts ...Option) *Client {
	t.Helper()
	base := f.srv.URL + "/v2"
	if v1 {
		base = f.srv.URL + "/v1"
		opts = append([]Option{WithV1()}, opts...)
	}
	c, err := NewClient(canaryEmail, canaryKey, append([]Option{WithBaseURL(base)}, opts...)...)
	require.NoError(t, err)
	return c
}

// mockClient returns a client whose requests go to a fresh httpmock
// transport.
func mockClient(t testing.TB, opts ...Option) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	c, err := NewClient(canaryEmail, canaryKey, append([]Option{WithHTTPClient(&http.Client{Transport: mt})}, opts...)...)
	require.NoError(t, err)
	return c, mt
}

// versions runs a subtest per OAuth version.
func versions(t *testing.T, fn func(t *testing.T, v1 bool)) {
	for _, v1 := range []bool{false, true} {
		name := "v2"
		if v1 {
			name = "v1"
		}
		t.Run(name, func(t *testing.T) { fn(t, v1) })
	}
}

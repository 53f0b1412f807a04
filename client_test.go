package visengine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewClientRefusesBadInput(t *testing.T) {
	cases := []struct {
		name  string
		token string
		opts  []Option
		want  string
	}{
		{"empty token", "", nil, "empty token"},
		{"blank token", "  \t", nil, "empty token"},
		{"token with blank", "ab cd", nil, "blanks"},
		{"plain http remote", "t", []Option{WithBaseURL("http://example.com")}, "must be https"},
		{"ftp", "t", []Option{WithBaseURL("ftp://example.com")}, "must be https"},
		{"no host", "t", []Option{WithBaseURL("https://")}, "malformed"},
		{"garbage", "t", []Option{WithBaseURL("://x")}, "malformed"},
		{"query", "t", []Option{WithBaseURL("https://example.com/?a=1")}, "malformed"},
		{"userinfo", "t", []Option{WithBaseURL("https://u:p@example.com")}, "malformed"},
		{"nil http client", "t", []Option{WithHTTPClient(nil)}, "WithHTTPClient"},
		{"zero attempts", "t", []Option{WithRetry(0, 0, 0)}, "WithRetry"},
		{"max below min", "t", []Option{WithRetry(2, time.Second, time.Millisecond)}, "WithRetry"},
		{"user agent newline", "t", []Option{WithUserAgent("a\r\nX-Evil: 1")}, "line break"},
		{"control character in token", "tok\x01en", nil, "control"},
		{"non-ASCII token", "tokèn", nil, "non-ASCII"},
		{"line break in token", "tok\r\nX-Evil: 1", nil, "control"},
		{"nil option", "t", []Option{nil}, "option is nil"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewClient(tc.token, tc.opts...)
			require.ErrorIs(t, err, ErrInvalidArgument)
			assert.Nil(t, c)
			assert.Contains(t, err.Error(), tc.want)
			assert.Equal(t, 1, strings.Count(err.Error(), "visengine: "), err.Error())
			assert.NotContains(t, err.Error(), "X-Evil")
		})
	}
}

// A base URL's userinfo and query may hold credentials: errors leave them out.
func TestNewClientErrorsHideURLCredentials(t *testing.T) {
	for _, raw := range []string{
		"http://user:s3cr3tpw@example.com/api?key=Q5ECRETQ",
		"https://user:s3cr3tpw@example.com/api?key=Q5ECRETQ",
		"https://example.com/api?key=Q5ECRETQ",
		"ftp://user:s3cr3tpw@example.com/?key=Q5ECRETQ",
		"://user:s3cr3tpw@example.com/?key=Q5ECRETQ",
	} {
		_, err := NewClient("tok", WithBaseURL(raw))
		require.ErrorIs(t, err, ErrInvalidArgument, raw)
		assert.NotContains(t, err.Error(), "s3cr3tpw", raw)
		assert.NotContains(t, err.Error(), "Q5ECRETQ", raw)
	}
	_, err := NewClient("tok", WithBaseURL("http://example.com/api"))
	assert.Contains(t, err.Error(), "http://example.com/api", "the URL is shown when it holds no credentials")
}

// The base URL's path is kept in front of every endpoint, escaped or not.
func TestEndpointKeepsTheBasePath(t *testing.T) {
	for base, want := range map[string]string{
		"https://example.com":             "https://example.com/richiesta/abc",
		"https://example.com/":            "https://example.com/richiesta/abc",
		"https://example.com/api/v2":      "https://example.com/api/v2/richiesta/abc",
		"https://example.com/api/v2/":     "https://example.com/api/v2/richiesta/abc",
		"https://example.com/a%2Fb":       "https://example.com/a%2Fb/richiesta/abc",
		"http://127.0.0.1:9/visengine/x/": "http://127.0.0.1:9/visengine/x/richiesta/abc",
	} {
		c, err := NewClient("tok", WithBaseURL(base))
		require.NoError(t, err, base)
		assert.Equal(t, want, c.endpoint("/richiesta/abc"), base)
	}
}

func TestNewClientAcceptsEnvironments(t *testing.T) {
	for _, tc := range []struct {
		opt  Option
		want string
	}{
		{nil, ProductionURL},
		{WithSandbox(), SandboxURL},
		{WithBaseURL("http://127.0.0.1:8080/"), "http://127.0.0.1:8080"},
		{WithBaseURL("http://[::1]:9"), "http://[::1]:9"},
		{WithBaseURL("http://localhost:9"), "http://localhost:9"},
		{WithBaseURL("https://proxy.example.com/visengine"), "https://proxy.example.com/visengine"},
	} {
		var opts []Option
		if tc.opt != nil {
			opts = append(opts, tc.opt)
		}
		c, err := NewClient("tok", opts...)
		require.NoError(t, err)
		assert.Equal(t, tc.want, c.BaseURL())
	}
}

// The client holds no secret: every verb, on the pointer and on the value,
// is safe, and String still names the environment.
func TestClientNeverPrintsToken(t *testing.T) {
	c, err := NewClient(canaryToken)
	require.NoError(t, err)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		assert.NotContains(t, fmt.Sprintf(verb, c), canaryToken, verb)
		assert.NotContains(t, fmt.Sprintf(verb, *c), canaryToken, verb)
	}
	assert.Equal(t, "visengine.Client("+ProductionURL+")", c.String())
}

// mockBase is the base URL of mockClient: it has a path, so a request
// built without it matches no responder.
const mockBase = "https://visengine.example.com" + apiPrefix

// mockClient returns a client whose transport is a fresh httpmock transport.
func mockClient(t *testing.T) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mock := httpmock.NewMockTransport()
	c, err := NewClient(canaryToken, WithHTTPClient(&http.Client{Transport: mock}), WithBaseURL(mockBase),
		WithUserAgent("caf-backend/2.1"), WithRetry(1, 0, 0))
	require.NoError(t, err)
	return c, mock
}

func assertCommonHeaders(t *testing.T, r *http.Request) {
	t.Helper()
	assert.Equal(t, "Bearer "+canaryToken, r.Header.Get("Authorization"))
	assert.Equal(t, "application/json", r.Header.Get("Accept"))
	assert.Equal(t, "caf-backend/2.1 visengine-go/"+Version+" (+https://github.com/visengine-go/visengine)", r.Header.Get("User-Agent"))
	assert.Empty(t, r.Header.Values("Idempotency-Key"), "an Idempotency-Key would let net/http replay a POST")
	assert.Empty(t, r.URL.RawQuery)
}

func TestRequestShapeCatalogue(t *testing.T) {
	c, mock := mockClient(t)
	list := readTestdata(t, "spec/get_visure_200.json")
	one := readTestdata(t, "spec/get_visure_hash_200.json")
	mock.RegisterResponder("GET", mockBase+"/visure", func(r *http.Request) (*http.Response, error) {
		assertCommonHeaders(t, r)
		assert.Empty(t, r.Header.Get("Content-Type"), "no body, no Content-Type")
		return httpmock.NewBytesResponse(200, list), nil
	})
	mock.RegisterResponder("GET", mockBase+"/visure/eccbc87e4b5ce2fe28308fd9f2a7baf3", func(r *http.Request) (*http.Response, error) {
		assertCommonHeaders(t, r)
		return httpmock.NewBytesResponse(200, one), nil
	})
	ctx := context.Background()
	all, err := c.ListVisure(ctx)
	require.NoError(t, err)
	assert.Len(t, all, 92)
	v, err := c.GetVisura(ctx, "eccbc87e4b5ce2fe28308fd9f2a7baf3")
	require.NoError(t, err)
	assert.Equal(t, "$0 && $1  ", v.JSONStruttura.Validazione)
	assert.Equal(t, map[string]int{"GET " + mockBase + "/visure": 1,
		"GET " + mockBase + "/visure/eccbc87e4b5ce2fe28308fd9f2a7baf3": 1}, mock.GetCallCountInfo())
}

func TestRequestShapeBody(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("POST", mockBase+"/richiesta", func(r *http.Request) (*http.Response, error) {
		assertCommonHeaders(t, r)
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		b, _ := io.ReadAll(r.Body)
		assert.JSONEq(t, `{"hash_visura":"abc","state":0}`, string(b))
		return httpmock.NewStringResponse(200, `{"data":{"ok":true},"success":true,"message":"","error":null}`), nil
	})
	var out struct{ OK bool }
	require.NoError(t, c.call(context.Background(), "POST", "/richiesta", map[string]any{"hash_visura": "abc", "state": 0}, &out))
	assert.True(t, out.OK)
}

func TestGetRetriedAfter503(t *testing.T) {
	srv := newCountingServer(t, func(n int32, w http.ResponseWriter, r *http.Request) {
		if n < 3 {
			writeJSON(w, 503, `<html>busy</html>`)
			return
		}
		w.Write(readTestdata(t, "spec/get_visure_200.json"))
	})
	all, err := newTestClient(t, srv.URL).ListVisure(context.Background())
	require.NoError(t, err)
	assert.Len(t, all, 92)
	assert.EqualValues(t, 3, srv.hits.Load())
}

func TestNotRetriedOn501And4xx(t *testing.T) {
	for _, status := range []int{400, 401, 404, 409, 501} {
		srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
			writeJSON(w, status, `{"data":null,"success":false,"message":"no","error":1}`)
		})
		_, err := newTestClient(t, srv.URL).ListVisure(context.Background())
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, status, apiErr.StatusCode)
		assert.EqualValues(t, 1, srv.hits.Load(), "status %d", status)
	}
}

func TestLastResponseKeptWhenRetriesGiveUp(t *testing.T) {
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 503, `{"data":null,"success":false,"message":"maintenance","error":999}`)
	})
	_, err := newTestClient(t, srv.URL).ListVisure(context.Background())
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, APIError{Method: "GET", Path: "/visure", StatusCode: 503, Code: 999, Message: "maintenance"}, *apiErr)
	assert.ErrorIs(t, err, ErrServer)
	assert.True(t, apiErr.Temporary())
	assert.EqualValues(t, 3, srv.hits.Load())
}

func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel() // waits two seconds, as Retry-After counts in seconds
	srv := newCountingServer(t, func(n int32, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "2")
			writeJSON(w, 429, `{"data":null,"success":false,"message":"slow down","error":1}`)
			return
		}
		w.Write(readTestdata(t, "spec/get_visure_200.json"))
	})
	c := newTestClient(t, srv.URL, WithRetry(2, time.Millisecond, 10*time.Second))
	start := time.Now()
	_, err := c.ListVisure(context.Background())
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 1900*time.Millisecond, "Retry-After: 2 was not honoured")
}

func TestHugeRetryAfterCapped(t *testing.T) {
	srv := newCountingServer(t, func(n int32, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "86400")
			writeJSON(w, 503, `{}`)
			return
		}
		w.Write(readTestdata(t, "spec/get_visure_200.json"))
	})
	c := newTestClient(t, srv.URL, WithRetry(2, time.Millisecond, 50*time.Millisecond))
	done := make(chan error, 1)
	go func() { _, err := c.ListVisure(context.Background()); done <- err }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("a day-long Retry-After was not capped")
	}
}

func TestCancelDuringBackoffReturnsPromptly(t *testing.T) {
	first := make(chan struct{}, 10)
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 503, `{}`)
		first <- struct{}{}
	})
	c := newTestClient(t, srv.URL, WithRetry(5, 10*time.Second, 10*time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := c.ListVisure(ctx); done <- err }()
	<-first
	time.Sleep(20 * time.Millisecond) // let the client enter its backoff
	assertPromptCancel(t, cancel, done)
	assert.EqualValues(t, 1, srv.hits.Load())
}

// assertPromptCancel cancels and checks that the call behind done returns
// context.Canceled within a second: promptly beside the 10 s backoff or the
// hour's poll interval it cuts, with room for a loaded machine.
func assertPromptCancel(t *testing.T, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	cancelled := time.Now()
	cancel()
	select {
	case err := <-done:
		assert.Less(t, time.Since(cancelled), time.Second)
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("the cancellation was ignored")
	}
}

// dropAfterBody reads the whole request body, counts it, then closes the
// connection without answering: the server got the POST, the client did not
// get an answer.
func dropAfterBody(bodies *atomic.Int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		bodies.Add(1)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}
}

func TestPostDroppedAfterBodyIsSentOnce(t *testing.T) {
	var bodies atomic.Int32
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) { dropAfterBody(&bodies)(w, r) })
	c := newTestClient(t, srv.URL, WithRetry(5, time.Millisecond, time.Millisecond))
	before := time.Now()
	err := c.call(context.Background(), "POST", "/richiesta", map[string]any{"hash_visura": "abc", "json_visura": map[string]string{"$4": "RSSMRA80A01H501U"}}, nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
	var ou *OutcomeUnknownError
	require.ErrorAs(t, err, &ou)
	assert.Equal(t, "POST", ou.Method)
	assert.Equal(t, "/richiesta", ou.Path)
	assert.WithinDuration(t, before, ou.SentAt, 5*time.Second)
	assert.NotContains(t, fmt.Sprintf("%+v", err), "RSSMRA80A01H501U")
	assert.EqualValues(t, 1, bodies.Load(), "the POST must reach the server exactly once")
}

func TestPutDroppedAfterBodyIsSentOnce(t *testing.T) {
	var bodies atomic.Int32
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) { dropAfterBody(&bodies)(w, r) })
	err := newTestClient(t, srv.URL).call(context.Background(), "PUT", "/richiesta/abc", map[string]int{"state": 1}, nil)
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.EqualValues(t, 1, bodies.Load())
}

func TestGetDroppedIsRetried(t *testing.T) {
	var bodies atomic.Int32
	srv := newCountingServer(t, func(n int32, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			dropAfterBody(&bodies)(w, r)
			return
		}
		w.Write(readTestdata(t, "spec/get_visure_200.json"))
	})
	_, err := newTestClient(t, srv.URL).ListVisure(context.Background())
	require.NoError(t, err)
	assert.EqualValues(t, 2, srv.hits.Load())
}

func TestPostFailingWith5xxIsOutcomeUnknown(t *testing.T) {
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 502, `<html><body>Bad Gateway</body></html>`)
	})
	err := newTestClient(t, srv.URL).call(context.Background(), "POST", "/richiesta", map[string]int{"state": 1}, nil)
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr, "the gateway's answer stays reachable")
	assert.Equal(t, 502, apiErr.StatusCode)
	assert.EqualValues(t, 1, srv.hits.Load())
}

// countingTransport counts attempts that reach the network.
type countingTransport struct {
	next http.RoundTripper
	n    atomic.Int32
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

func closedPortURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return "http://" + addr
}

func TestPostToClosedPortIsRetried(t *testing.T) {
	ct := &countingTransport{next: http.DefaultTransport}
	c := newTestClient(t, closedPortURL(t), WithHTTPClient(&http.Client{Transport: ct}),
		WithRetry(3, time.Millisecond, 2*time.Millisecond))
	err := c.call(context.Background(), "POST", "/richiesta", map[string]int{"state": 1}, nil)
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrOutcomeUnknown, "a refused connection never carried the POST")
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.EqualValues(t, 3, ct.n.Load())
	assert.Contains(t, err.Error(), "3 attempt(s)")
}

func TestPostRetriedUntilServerListens(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	var bodies atomic.Int32
	go func() {
		time.Sleep(30 * time.Millisecond)
		l2, err := net.Listen("tcp", addr)
		if err != nil {
			return
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			bodies.Add(1)
			writeJSON(w, 200, `{"data":{},"success":true,"message":"","error":null}`)
		})}
		t.Cleanup(func() { srv.Close() })
		srv.Serve(l2)
	}()
	c := newTestClient(t, "http://"+addr, WithRetry(50, 10*time.Millisecond, 10*time.Millisecond))
	require.NoError(t, c.call(context.Background(), "POST", "/richiesta", map[string]int{"state": 1}, nil))
	assert.EqualValues(t, 1, bodies.Load())
}

func TestRedirectNotFollowed(t *testing.T) {
	other := newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
		w.Write(readTestdata(t, "spec/get_visure_200.json"))
	})
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/visure", http.StatusTemporaryRedirect)
	})
	for _, call := range []func(c *Client) error{
		func(c *Client) error { _, err := c.ListVisure(context.Background()); return err },
		func(c *Client) error {
			return c.call(context.Background(), "POST", "/richiesta", map[string]int{"state": 1}, nil)
		},
	} {
		err := call(newTestClient(t, srv.URL))
		require.Error(t, err)
		assert.ErrorIs(t, err, ErrUnexpectedResponse)
		assert.Contains(t, err.Error(), "307")
	}
	assert.Zero(t, other.hits.Load(), "nothing may reach the redirect's target")
}

func TestUnexpectedBodiesGiveTypedErrors(t *testing.T) {
	big := strings.Repeat("x", 2<<20)
	cases := []struct {
		name   string
		status int
		body   string
		is     error
		want   string
	}{
		{"html 502", 502, "<html><body>Bad gateway</body></html>", ErrServer, "HTTP 502"},
		{"empty 500", 500, "", ErrServer, "HTTP 500"},
		{"empty 200", 200, "", ErrUnexpectedResponse, "HTTP 200"},
		{"html 200", 200, "<html></html>", ErrUnexpectedResponse, "not a Visengine JSON envelope"},
		{"truncated", 200, `{"data":[{"nome_visura":"x"`, ErrUnexpectedResponse, "not a Visengine JSON envelope"},
		{"success false 200", 200, `{"data":null,"success":false,"message":"wrong hash_visura","error":200}`, nil, "wrong hash_visura"},
		{"no success key", 200, `{"data":[]}`, ErrUnexpectedResponse, `without "success"`},
		{"data null", 200, `{"data":null,"success":true,"message":"","error":null}`, ErrUnexpectedResponse, "without data"},
		{"wrong data type", 200, `{"data":{"a":1},"success":true,"message":"","error":null}`, ErrUnexpectedResponse, "decoding data"},
		{"huge error body", 500, big, ErrServer, "larger than"},
		{"json array", 200, `[1,2]`, ErrUnexpectedResponse, "envelope"},
		{"error code as string", 404, `{"data":null,"success":false,"message":"gone","error":"202"}`, ErrNotFound, "(Visengine error 202)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			_, err := newTestClient(t, srv.URL, WithRetry(1, 0, 0)).ListVisure(context.Background())
			require.Error(t, err)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.status, apiErr.StatusCode)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
			assert.Contains(t, err.Error(), tc.want)
			assert.Less(t, len(err.Error()), 400)
		})
	}
}

func TestTruncatedBodyWrapsUnexpectedEOF(t *testing.T) {
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(200)
		io.WriteString(w, `{"data":[`)
	})
	_, err := newTestClient(t, srv.URL, WithRetry(1, 0, 0)).ListVisure(context.Background())
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.ErrorIs(t, err, ErrUnexpectedResponse)
}

func TestCanaryNeverLoggedNorInErrors(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var bodies atomic.Int32
	srv := newCountingServer(t, func(n int32, w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/visure":
			w.Write(readTestdata(t, "spec/get_visure_200.json"))
		case "/richiesta":
			dropAfterBody(&bodies)(w, r)
		default:
			writeJSON(w, 400, `{"data":null,"success":false,"message":"wrong hash_visura","error":200}`)
		}
	})
	c := newTestClient(t, srv.URL, WithLogger(logger))
	ctx := context.Background()
	var errs []error
	_, err := c.ListVisure(ctx)
	require.NoError(t, err)
	_, err = c.GetVisura(ctx, "0000")
	errs = append(errs, err)
	errs = append(errs, c.call(ctx, "POST", "/richiesta", map[string]string{"$4": "RSSMRA80A01H501U"}, nil))
	_, err = newTestClient(t, closedPortURL(t), WithLogger(logger)).ListVisure(ctx)
	errs = append(errs, err)
	for _, err := range errs {
		require.Error(t, err)
		for _, verb := range []string{"%v", "%+v", "%#v"} {
			s := fmt.Sprintf(verb, err)
			assert.NotContains(t, s, canaryToken)
			assert.NotContains(t, s, "RSSMRA80A01H501U")
		}
	}
	out := logs.String()
	assert.NotContains(t, out, canaryToken)
	assert.NotContains(t, out, "RSSMRA80A01H501U")
	assert.NotContains(t, out, "Bearer")
	assert.Contains(t, out, `"method":"GET"`)
	assert.Contains(t, out, `"path":"/visure"`)
	assert.Contains(t, out, `"status":200`)
	assert.Contains(t, out, `"attempt":1`)
	assert.Contains(t, out, `"duration"`)
}

func TestNoLoggingWithoutLogger(t *testing.T) {
	// slog's default logger is the only place our package could write to
	// without WithLogger; point it at a buffer and check it stays empty.
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(old) })
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) { writeJSON(w, 503, "{}") })
	_, err := newTestClient(t, srv.URL).ListVisure(context.Background())
	require.Error(t, err)
	assert.Empty(t, buf.String())
}

func TestNilContextRefused(t *testing.T) {
	c := newTestClient(t, "http://127.0.0.1:1")
	//lint:ignore SA1012 checking that a nil context is refused, not a panic
	_, err := c.ListVisure(nil) //nolint:staticcheck
	assert.ErrorIs(t, err, ErrInvalidArgument)
}

func TestAPIErrorMapping(t *testing.T) {
	cases := []struct {
		status int
		code   Code
		want   []error
	}{
		{404, 0, []error{ErrNotFound}}, {401, 0, []error{ErrUnauthorized}}, {403, 0, []error{ErrUnauthorized}},
		{402, CodeInsufficientCredit, []error{ErrInsufficientCredit}}, {400, CodeInvalidEmail, []error{ErrInvalidRequest}},
		{412, CodeInsufficientData, []error{ErrInvalidRequest}}, {428, CodeHashRequired, []error{ErrInvalidRequest}},
		{422, CodeDocumentNotReady, []error{ErrDocumentNotReady}}, {409, CodeRicercaNotAllowed, []error{ErrConflict}},
		{429, 0, []error{ErrRateLimited}}, {500, 0, []error{ErrServer}}, {503, 0, []error{ErrServer}},
		{200, CodeDocumentNotReady, []error{ErrDocumentNotReady}}, {200, CodeInsufficientCreditRicerca, []error{ErrInsufficientCredit}},
		{402, CodeInsufficientCreditRisultato, []error{ErrInsufficientCredit}}, {200, CodeRichiestaNotFound, []error{ErrNotFound}},
		{404, CodeNoRichieste, []error{ErrNotFound}}, {404, CodeRichiestaNotFoundPut, []error{ErrNotFound}},
		{404, CodeRichiestaNotFoundDocumento, []error{ErrNotFound}},
		// An unknown hash is not found, and by its status an invalid request.
		{400, CodeWrongHash, []error{ErrNotFound, ErrInvalidRequest}},
		// Closing twice: already closed, a conflict, and by its status invalid.
		{400, CodeAlreadyClosed, []error{ErrAlreadyClosed, ErrConflict, ErrInvalidRequest}},
	}
	all := []error{ErrNotFound, ErrUnauthorized, ErrInsufficientCredit, ErrInvalidRequest, ErrDocumentNotReady,
		ErrConflict, ErrAlreadyClosed, ErrRateLimited, ErrServer, ErrUnexpectedResponse, ErrOutcomeUnknown}
	for _, tc := range cases {
		err := error(newAPIError(tc.status, int(tc.code), "m"))
		for _, s := range all {
			assert.Equal(t, slices.Contains(tc.want, s), errors.Is(err, s), "%d/%d vs %v", tc.status, tc.code, s)
		}
	}
}

// Every documented code has its constant, and the constants are distinct.
func TestCodesAreDistinct(t *testing.T) {
	codes := []Code{CodeWrongHash, CodeInvalidID, CodeRichiestaNotFound, CodeNoRichieste, CodeHashRequired,
		CodeInvalidEmail, CodeInsufficientCredit, CodeInvalidIDRicerca, CodeNotFinalized, CodeRicercaNotAllowed,
		CodeJSONVisuraRequired, CodeInsufficientCreditRicerca, CodeIDRequired, CodeRichiestaNotFoundPut,
		CodeInvalidInput, CodeNoRisultati, CodeInvalidIndice, CodeNegativeIndice, CodeInsufficientCreditRisultato,
		CodeAlreadyClosed, CodeIDRequiredDocumento, CodeInvalidIDDocumento, CodeRichiestaNotFoundDocumento,
		CodeDocumentNotReady, CodeInsufficientData}
	seen := map[Code]bool{}
	for _, c := range codes {
		assert.False(t, seen[c], "%d twice", c)
		seen[c] = true
	}
	assert.Len(t, seen, 25, "one per distinct code of visengine-api.md §7.1")
}

// Message is the server's text exactly as sent; Error prints it cleaned
// (controls, format characters and line separators replaced) and capped.
func TestAPIErrorMessageCleaned(t *testing.T) {
	raw := "line\r\nforged: yes\x00 \u2028next\u202eesrever\u2066" + strings.Repeat("é", 300)
	e := newAPIError(400, 1, raw)
	assert.Equal(t, raw, e.Message, "Message stays as sent")
	for _, bad := range []string{"\n", "\r", "\x00", "\u2028", "\u202e", "\u2066"} {
		assert.NotContains(t, e.Error(), bad)
	}
	assert.LessOrEqual(t, len(e.Error()), 300)
	assert.True(t, strings.HasSuffix(e.Error(), "…"))
	assert.Equal(t, "visengine: HTTP 402 (Visengine error 211): Insufficient Credit in Wallet: 182.03",
		newAPIError(402, 211, "Insufficient Credit in Wallet: 182.03").Error())
}

// A transport that does not drive httptrace, such as httpmock, gives no
// proof that a failed POST never left: it must not be resent.
func TestPostThroughUntracedTransportNotResent(t *testing.T) {
	mock := httpmock.NewMockTransport()
	mock.RegisterResponder("POST", ProductionURL+"/richiesta", httpmock.NewErrorResponder(errors.New("connection reset by peer")))
	c, err := NewClient(canaryToken, WithHTTPClient(&http.Client{Transport: mock}), WithRetry(4, time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	err = c.call(context.Background(), "POST", "/richiesta", map[string]int{"state": 1}, nil)
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.Equal(t, 1, mock.GetTotalCallCount())

	mock.RegisterResponder("POST", ProductionURL+"/richiesta",
		httpmock.NewErrorResponder(&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}))
	mock.ZeroCallCounters()
	err = c.call(context.Background(), "POST", "/richiesta", map[string]int{"state": 1}, nil)
	assert.NotErrorIs(t, err, ErrOutcomeUnknown, "a dial failure proves the POST never left")
	assert.Equal(t, 4, mock.GetTotalCallCount())
}

// A 2xx answer to a POST or PUT means the server took the call, and for a paid
// one charged it. When the answer cannot be interpreted the outcome is
// unknown, not a failure that invites sending the call again; a readable
// "success": false stays a known refusal.
func TestPaid2xxUninterpretableIsOutcomeUnknown(t *testing.T) {
	// The cap is lowered for the test: a 64 MiB body costs seconds under
	// -race and exercises nothing more.
	const testCap = 1 << 20
	real, err := NewClient("t0k3n")
	require.NoError(t, err)
	require.EqualValues(t, maxResponseBody, real.maxBody, "a client caps at maxResponseBody")
	bigOK := `{"data":"` + strings.Repeat("x", testCap) + `","success":true}`
	cases := []struct {
		name string
		body string
	}{
		{"html", "<html>ok</html>"},
		{"empty", ""},
		{"no success key", `{"data":{"_id":"5f2829ce065afc21cc60ad0e"}}`},
		{"success without data", `{"data":null,"success":true,"message":"","error":null}`},
		{"undecodable data", `{"data":[1,2],"success":true,"message":"","error":null}`},
		{"unusable id", `{"data":{"_id":17,"state":1},"success":true,"message":"","error":null}`},
		{"body over the cap", bigOK},
	}
	for _, method := range []string{http.MethodPost, http.MethodPut} {
		for _, tc := range cases {
			t.Run(method+" "+tc.name, func(t *testing.T) {
				c, mock := mockClient(t)
				c.maxBody = testCap
				mock.RegisterResponder(method, mockBase+"/richiesta/5f2829ce065afc21cc60ad0e", func(r *http.Request) (*http.Response, error) {
					resp := httpmock.NewStringResponse(200, tc.body)
					resp.Request = r
					return resp, nil
				})
				var r Richiesta
				err := c.call(context.Background(), method, "/richiesta/5f2829ce065afc21cc60ad0e", map[string]int{"state": 1}, &r)
				require.ErrorIs(t, err, ErrOutcomeUnknown)
				var ou *OutcomeUnknownError
				require.ErrorAs(t, err, &ou)
				assert.Equal(t, method, ou.Method)
				assert.Equal(t, "/richiesta/5f2829ce065afc21cc60ad0e", ou.Path)
				var apiErr *APIError
				require.ErrorAs(t, err, &apiErr, "the answer's problem stays reachable")
				assert.Equal(t, 200, apiErr.StatusCode)
				assert.ErrorIs(t, err, ErrUnexpectedResponse)
				assert.Equal(t, 1, mock.GetTotalCallCount(), "never resent")
			})
		}
		t.Run(method+" success false is a known refusal", func(t *testing.T) {
			c, mock := mockClient(t)
			mock.RegisterResponder(method, mockBase+"/richiesta", httpmock.NewStringResponder(200,
				`{"data":null,"success":false,"message":"wrong hash_visura","error":200}`))
			err := c.call(context.Background(), method, "/richiesta", map[string]int{"state": 1}, &Richiesta{})
			assert.NotErrorIs(t, err, ErrOutcomeUnknown)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, CodeWrongHash, apiErr.Code)
		})
	}
	t.Run("answer without its request", func(t *testing.T) {
		c, mock := mockClient(t)
		mock.RegisterResponder("POST", mockBase+"/richiesta", func(*http.Request) (*http.Response, error) {
			return httpmock.NewStringResponse(200, "<html></html>"), nil // Request left nil
		})
		err := c.call(context.Background(), "POST", "/richiesta", map[string]int{"state": 1}, &Richiesta{})
		assert.ErrorIs(t, err, ErrOutcomeUnknown)
	})
	t.Run("GET stays a plain unexpected response", func(t *testing.T) {
		c, mock := mockClient(t)
		mock.RegisterResponder("GET", mockBase+"/richiesta/5f2829ce065afc21cc60ad0e", httpmock.NewStringResponder(200, "<html></html>"))
		_, err := c.GetRichiesta(context.Background(), "5f2829ce065afc21cc60ad0e")
		assert.ErrorIs(t, err, ErrUnexpectedResponse)
		assert.NotErrorIs(t, err, ErrOutcomeUnknown)
	})
}

// The same through the public calls and a real listener.
func TestCreateRichiesta2xxUndecodableIsOutcomeUnknown(t *testing.T) {
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 201, `{"data":{"_id":["x"]},"success":true}`)
	})
	c := newTestClient(t, srv.URL)
	_, err := c.CreateRichiesta(context.Background(), &RichiestaParams{HashVisura: "2631ec9b62135de4186f509fea7d954b", State: StateSubmitted})
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
	_, err = c.CloseRichiesta(context.Background(), "5f2829ce065afc21cc60ad0e")
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
	var apiErr *APIError
	assert.ErrorAs(t, err, &apiErr)
	assert.EqualValues(t, 2, srv.hits.Load())
}

// Visengine's 412 messages may echo the applicant's input after the colon:
// Error stops there, Message keeps everything.
func TestAPIError412HidesEchoedInput(t *testing.T) {
	cases := []struct {
		code      int
		msg, want string
	}{
		{250, "Insufficient data to validate the request: $4 RSSMRA85M01H501Q", "visengine: HTTP 412 (Visengine error 250): Insufficient data to validate the request: …"},
		{229, "error in the input data: mario.rossi@example.com: is not valid", "visengine: HTTP 412 (Visengine error 229): error in the input data: …"},
		{250, "Insufficient data to validate the request: ", "visengine: HTTP 412 (Visengine error 250): Insufficient data to validate the request:"},
		{250, "Insufficient data to validate the request", "visengine: HTTP 412 (Visengine error 250): Insufficient data to validate the request"},
	}
	for _, tc := range cases {
		e := newAPIError(412, tc.code, tc.msg)
		assert.Equal(t, tc.want, e.Error())
		assert.NotContains(t, fmt.Sprintf("%v %+v", e, error(e)), "RSSMRA85M01H501Q")
		assert.NotContains(t, e.Error(), "mario.rossi")
		assert.Equal(t, tc.msg, e.Message, "Message stays verbatim")
		assert.ErrorIs(t, e, ErrInvalidRequest)
	}

	// Through the client, as the server answers it.
	c, mock := mockClient(t)
	mock.RegisterResponder("POST", mockBase+"/richiesta", httpmock.NewStringResponder(412,
		`{"success":false,"message":"error in the input data: RSSMRA85M01H501Q","error":229,"data":null}`))
	_, err := c.CreateRichiesta(context.Background(), &RichiestaParams{HashVisura: "2631ec9b62135de4186f509fea7d954b"})
	require.ErrorIs(t, err, ErrInvalidRequest)
	assert.NotContains(t, err.Error(), "RSSMRA85M01H501Q")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "error in the input data: RSSMRA85M01H501Q", apiErr.Message)

	// Other statuses print the message whole (it carries ids and balances).
	assert.Contains(t, newAPIError(402, 211, "Insufficient Credit in Wallet: 182.03").Error(), ": 182.03")
}

// A 303 after a POST usually means "done, look over there": not a refusal.
func TestPostRedirectIsOutcomeUnknown(t *testing.T) {
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/richiesta/abc", http.StatusSeeOther)
	})
	err := newTestClient(t, srv.URL).call(context.Background(), "POST", "/richiesta", map[string]int{"state": 1}, nil)
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.ErrorIs(t, err, ErrUnexpectedResponse)
	assert.EqualValues(t, 1, srv.hits.Load())
}

func TestDecodeErrorsNameTheirCause(t *testing.T) {
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"data":{"_id":"abc","state":1,"prezzo_visura":"4,78"},"success":true,"message":"","error":null}`)
	})
	_, err := newTestClient(t, srv.URL).GetRichiesta(context.Background(), "abc")
	assert.ErrorIs(t, err, ErrUnexpectedResponse)
	assert.Contains(t, err.Error(), "bad price")
	assert.NotContains(t, err.Error(), "4,78")
}

package fakeserve

import (
	"bytes"
	"context"
	"flag"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/visenginetest"
)

// Every case of visenginetest.Fault can be written on the command line.
func TestParseFaultCoversEveryCase(t *testing.T) {
	cases := map[string]FaultSpec{
		"PUT /richiesta/{id}=drop-after-apply":  {Method: "PUT", Pattern: "/richiesta/{id}", Fault: visenginetest.Fault{Drop: visenginetest.DropAfterApply}},
		"post /richiesta=drop-before-apply":     {Method: "POST", Pattern: "/richiesta", Fault: visenginetest.Fault{Drop: visenginetest.DropBeforeApply}},
		"* /visure=502":                         {Method: "*", Pattern: "/visure", Fault: visenginetest.Fault{Status: 502}},
		"GET /richiesta/{id}=status:404,always": {Method: "GET", Pattern: "/richiesta/{id}", Fault: visenginetest.Fault{Status: 404, Times: -1}},
		"PUT /richiesta/{id}=502,apply":         {Method: "PUT", Pattern: "/richiesta/{id}", Fault: visenginetest.Fault{Status: 502, Apply: true}},
		"PUT /richiesta/{id}=504, apply-after:2s, stale-reads:3": {Method: "PUT", Pattern: "/richiesta/{id}",
			Fault: visenginetest.Fault{Status: 504, ApplyAfter: 2 * time.Second, StaleReads: 3}},
		"GET /visure=delay:1500ms,times:4":         {Method: "GET", Pattern: "/visure", Fault: visenginetest.Fault{Delay: 1500 * time.Millisecond, Times: 4}},
		"GET /documento/{id}=truncate:40":          {Method: "GET", Pattern: "/documento/{id}", Fault: visenginetest.Fault{Truncate: 40}},
		"POST /richiesta=429,retry-after:5":        {Method: "POST", Pattern: "/richiesta", Fault: visenginetest.Fault{Status: 429, RetryAfter: "5"}},
		"GET /richiesta/{id}/{rest...}=status:500": {Method: "GET", Pattern: "/richiesta/{id}/{rest...}", Fault: visenginetest.Fault{Status: 500}},
		"GET /visure=502,body:<html>Bad gateway, try later</html>": {Method: "GET", Pattern: "/visure",
			Fault: visenginetest.Fault{Status: 502, Body: []byte("<html>Bad gateway, try later</html>")}},
	}
	for spec, want := range cases {
		got, err := ParseFault(spec)
		require.NoError(t, err, spec)
		want.Spec = strings.TrimSpace(spec[strings.Index(spec, "=")+1:])
		assert.Equal(t, want, got, spec)
	}
	for _, bad := range []string{"", "PUT", "PUT /x", "PUT /x=", "/x=502", "PUT x=502", "PUT /x=explode", "PUT /x=status",
		"PUT /x=drop-after-apply:1", "PUT /x=body:x", "PUT /x=status:99", "PUT /x=delay:-1s", "PUT /x=delay:soon", "PUT /x=times:0", "PUT /x=truncate:-1"} {
		_, err := ParseFault(bad)
		assert.Error(t, err, bad)
	}
}

func TestRateLimitFlag(t *testing.T) {
	var r RateLimit
	require.NoError(t, r.Set("5/s"))
	assert.Equal(t, RateLimit{N: 5, Per: time.Second}, r)
	assert.Equal(t, "5/s", r.String())
	require.NoError(t, r.Set("100/m"))
	assert.Equal(t, RateLimit{N: 100, Per: time.Minute}, r)
	require.NoError(t, r.Set("0"))
	assert.Equal(t, RateLimit{}, r)
	for _, bad := range []string{"5", "5/d", "x/s", "-1/s", "0/s"} {
		assert.Error(t, r.Set(bad), bad)
	}
}

// One set of defaults for both commands: richieste advance unless told
// not to, so that "visengine wait" finishes (issue 21).
func TestDefaults(t *testing.T) {
	var c Config
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	c.Flags(fs)
	require.NoError(t, fs.Parse(nil))
	assert.Equal(t, 2*time.Second, c.Progress)
	assert.Equal(t, "127.0.0.1:8080", c.Addr)
	assert.Equal(t, "1000", c.Wallet)
	require.NoError(t, fs.Parse([]string{"--fault", "PUT /richiesta/{id}=drop-after-apply", "--fault", "GET /visure=502", "--rate-limit", "2/s"}))
	assert.Len(t, c.Faults, 2)
	assert.Equal(t, RateLimit{N: 2, Per: time.Second}, c.RateLimit)
}

// The faults and the rate limit reach the server.
func TestStartInstallsFaultsAndRateLimit(t *testing.T) {
	c := Config{Addr: "127.0.0.1:0", Email: "test@example.com", Wallet: "10", RateLimit: RateLimit{N: 2, Per: time.Hour}}
	require.NoError(t, c.Faults.Set("GET /visure=503,retry-after:7"))
	f, err := Start(c)
	require.NoError(t, err)
	defer f.Close()
	get := func() *http.Response {
		req, err := http.NewRequest("GET", f.URL+"/visure", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+f.Token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	r := get()
	assert.Equal(t, 503, r.StatusCode, "the fault")
	assert.Equal(t, "7", r.Header.Get("Retry-After"))
	assert.Equal(t, 200, get().StatusCode, "once")
	r = get()
	assert.Equal(t, http.StatusTooManyRequests, r.StatusCode, "beyond 2 an hour")
	assert.Equal(t, "3600", r.Header.Get("Retry-After"))
	assert.Equal(t, visengine.Cents(10_00), f.Balance)

	var out bytes.Buffer
	f.Exports(&out)
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		assert.True(t, strings.HasPrefix(line, "export "), line)
	}

	bad := Config{Addr: "127.0.0.1:0", Email: "test@example.com", Wallet: "10"}
	require.NoError(t, bad.Faults.Set("PUT /richiesta/{id}=apply"))
	_, err = Start(bad)
	assert.ErrorContains(t, err, "Apply needs Status")
}

func TestServeStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, Config{Addr: "127.0.0.1:0", Email: "test@example.com", Wallet: "1", Progress: 0}, &out, &errOut, "t")
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	assert.Contains(t, errOut.String(), "0: never")
	assert.True(t, strings.HasPrefix(out.String(), "export VISENGINE_URL=http://127.0.0.1:"))
}

// FuzzParseFault: any spec is parsed or refused, never a panic; one that
// parses names a method and a path.
func FuzzParseFault(f *testing.F) {
	for _, s := range []string{"PUT /richiesta/{id}=drop-after-apply", "* /x=502,apply,stale-reads:2", "GET /a=delay:1s,times:3",
		"POST /richiesta=429,retry-after:5,always", "=", "PUT /x==", "PUT  /x=502", "PUT /x=status:", "PUT /x=,,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := ParseFault(spec)
		if err == nil && (s.Method == "" || !strings.HasPrefix(s.Pattern, "/")) {
			t.Fatalf("%q parsed as %+v", spec, s)
		}
	})
}

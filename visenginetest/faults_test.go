package visenginetest

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
)

// rawDo sends a request and returns the transport error, if any.
func rawDo(t *testing.T, srv *Server, method, path, body string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+srv.Token)
	resp, err := srv.ts.Client().Do(req)
	if err == nil {
		_, err = readAll(resp)
	}
	return resp, err
}

func readAll(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

const ordBody = `{"hash_visura":"eccbc87e4b5ce2fe28308fd9f2a7baf3","json_visura":{"$0":"1378273","$1":"RM"}}`

func TestFaultStatusRetryAfter(t *testing.T) {
	srv := newServer(t)
	srv.Fault("GET", "/visure", Fault{Status: 503, RetryAfter: "0"})
	a := call(t, srv, "GET", "/visure", nil)
	assert.Equal(t, 503, a.Status)
	assert.Equal(t, "0", a.Header.Get("Retry-After"))
	assert.Equal(t, 503, a.code())
	assert.Equal(t, 200, call(t, srv, "GET", "/visure", nil).Status, "one-shot")

	srv.Fault("GET", "/visure", Fault{Status: 502, Body: []byte("<html>Bad Gateway</html>"), Times: 2})
	list, err := srv.Client().ListVisure(context.Background())
	require.NoError(t, err, "the client retries past two 502s")
	assert.Len(t, list, 92)
	assert.Len(t, srv.Requests(), 5)
}

func TestFaultStatusDoesNotApply(t *testing.T) {
	srv := newServer(t)
	srv.Fault("POST", "/richiesta", Fault{Status: 429, RetryAfter: "1"})
	resp, err := rawDo(t, srv, "POST", "/richiesta", ordBody)
	require.NoError(t, err)
	assert.Equal(t, 429, resp.StatusCode)
	n, _ := srv.Charges()
	assert.Zero(t, n)
}

func TestFaultDropBeforeApply(t *testing.T) {
	srv := newServer(t)
	srv.Fault("POST", "/richiesta", Fault{Drop: DropBeforeApply})
	_, err := rawDo(t, srv, "POST", "/richiesta", ordBody)
	require.Error(t, err)
	n, _ := srv.Charges()
	assert.Zero(t, n, "nothing applied")
	assert.Equal(t, 404, call(t, srv, "GET", "/richiesta", nil).Status)
	require.Len(t, srv.Requests(), 2)
	assert.Equal(t, ordBody, string(srv.Requests()[0].Body), "the body was read")
}

func TestFaultDropAfterApply(t *testing.T) {
	srv := newServer(t)
	srv.Fault("POST", "/richiesta", Fault{Drop: DropAfterApply})
	_, err := rawDo(t, srv, "POST", "/richiesta", ordBody)
	require.Error(t, err, "no answer")
	n, total := srv.Charges()
	assert.Equal(t, 1, n, "applied exactly once")
	assert.Equal(t, visengine.Cents(490), total)
	list := call(t, srv, "GET", "/richiesta", nil).Env["data"].([]any)
	assert.Len(t, list, 1)
}

func TestFaultTruncate(t *testing.T) {
	srv := newServer(t)
	srv.Fault("*", "/richiesta/{id}", Fault{Truncate: 10})
	id := create(t, srv, specBody(t, "post_richiesta_request.json"))
	resp, err := rawDo(t, srv, "GET", "/richiesta/"+id, "")
	require.Error(t, err, "body cut short")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, 200, call(t, srv, "GET", "/richiesta/"+id, nil).Status)
}

func TestFaultTruncateApplies(t *testing.T) {
	srv := newServer(t)
	srv.Fault("POST", "/richiesta", Fault{Truncate: 1})
	_, err := rawDo(t, srv, "POST", "/richiesta", ordBody)
	require.Error(t, err)
	n, _ := srv.Charges()
	assert.Equal(t, 1, n)
}

func TestFaultDelay(t *testing.T) {
	srv := newServer(t)
	// Long enough that the undelayed call's bound holds on a loaded machine.
	const delay = 500 * time.Millisecond
	srv.Fault("GET", "/visure/{hash}", Fault{Delay: delay})
	start := time.Now()
	assert.Equal(t, 200, call(t, srv, "GET", "/visure/"+hashA2, nil).Status)
	assert.GreaterOrEqual(t, time.Since(start), delay)
	start = time.Now()
	call(t, srv, "GET", "/visure/"+hashA2, nil)
	assert.Less(t, time.Since(start), delay, "the fault hit once")
}

func TestFaultDelayEndsOnClose(t *testing.T) {
	srv := NewServer()
	srv.Fault("", "/visure", Fault{Delay: time.Hour})
	go func() {
		time.Sleep(20 * time.Millisecond)
		srv.Close()
	}()
	start := time.Now()
	_, _ = rawDo(t, srv, "GET", "/visure", "")
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestFaultPatternsAndClear(t *testing.T) {
	srv := newServer(t)
	srv.Fault("GET", "/richiesta/*", Fault{Status: 500, Times: -1})
	assert.Equal(t, 404, call(t, srv, "GET", "/richiesta", nil).Status, "no segment for *")
	for range 3 {
		assert.Equal(t, 500, call(t, srv, "GET", "/richiesta/abc", nil).Status)
	}
	assert.Equal(t, 404, call(t, srv, "PUT", "/richiesta/abc", map[string]int{"state": 1}).Status, "other method")
	srv.ClearFaults()
	assert.Equal(t, 404, call(t, srv, "GET", "/richiesta/abc", nil).Status)

	srv.Fault("", "/richiesta/{rest...}", Fault{Status: 418})
	assert.Equal(t, 418, call(t, srv, "PUT", "/richiesta/abc/ricerche", map[string]int{}).Status)
}

// Every hits one matching request in N; ChargeAgain needs ApplyAfter.
func TestFaultEveryAndChargeAgain(t *testing.T) {
	srv := newServer(t)
	srv.Fault("GET", "/visure", Fault{Status: 429, RetryAfter: "1", Every: 3, Times: -1})
	var got []int
	for range 9 {
		got = append(got, call(t, srv, "GET", "/visure", nil).Status)
	}
	assert.Equal(t, []int{200, 200, 429, 200, 200, 429, 200, 200, 429}, got)
	assert.Panics(t, func() { srv.Fault("PUT", "/richiesta/{id}", Fault{Status: 504, ChargeAgain: true}) })
	assert.Panics(t, func() { srv.Fault("GET", "/visure", Fault{Status: 429, Every: -1}) })
}

// lateClose closes a new draft through a gateway that answers 504 at once
// while the backend commits the close commit later, and returns its id.
func lateClose(t *testing.T, srv *Server, commit time.Duration) string {
	t.Helper()
	id := create(t, srv, map[string]any{"hash_visura": hashA2, "state": 0, "json_visura": a2Values()})
	srv.Fault("PUT", "/richiesta/{id}", Fault{Status: http.StatusGatewayTimeout, ApplyAfter: commit})
	resp, err := rawDo(t, srv, "PUT", "/richiesta/"+id, `{"state":1}`)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusGatewayTimeout, resp.StatusCode)
	return id
}

// An ApplyAfter whose timer fires late, as on a loaded machine, is applied
// all the same before anything observes the server after its time: the
// next request and Charges see the close it commits.
func TestApplyAfterIsDueWhateverTheTimer(t *testing.T) {
	srv := newServer(t)
	srv.lateSlack = time.Hour
	const commit = 500 * time.Millisecond // "not yet" holds on a loaded machine too
	id := lateClose(t, srv, commit)
	n, _ := srv.Charges()
	assert.Zero(t, n, "not yet")
	time.Sleep(commit)
	n, _ = srv.Charges()
	assert.Equal(t, 1, n, "applied on looking, its timer an hour away")
	got := call(t, srv, "GET", "/richiesta/"+id, nil)
	assert.EqualValues(t, 1, got.data(t)["state"], "%s", got.Raw)
}

// SetBalance applies what is due first, whatever its timer: a close the
// backend committed before the wallet was drained is charged, not refused
// for want of credit.
func TestSetBalanceAppliesWhatIsDueFirst(t *testing.T) {
	srv := newServer(t)
	srv.lateSlack = time.Hour
	const commit = 50 * time.Millisecond
	lateClose(t, srv, commit)
	time.Sleep(commit)
	srv.SetBalance(visengine.Euros(0))
	n, _ := srv.Charges()
	assert.Equal(t, 1, n, "the close was due before SetBalance")
	assert.True(t, srv.Balance().IsZero(), "%v", srv.Balance())
}

// Close waits for an apply that an observer (Charges) runs, as it waits
// for one its timer runs: the server's state never changes after Close.
func TestCloseWaitsForAnApplyRunByAnObserver(t *testing.T) {
	var blocking atomic.Bool
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	srv := NewServer(WithTokenClock(func() time.Time {
		if blocking.Load() { // inside the late request's token check
			once.Do(func() { close(entered) })
			<-release
		}
		return time.Now()
	}))
	defer srv.Close()
	srv.lateSlack = time.Hour
	tok := srv.IssueToken(time.Hour, "GET:visengine2.altravia.com/visure")
	srv.Fault("GET", "/visure", Fault{Status: http.StatusGatewayTimeout, ApplyAfter: 20 * time.Millisecond})
	req, err := http.NewRequest("GET", srv.URL+"/visure", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := srv.ts.Client().Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	time.Sleep(50 * time.Millisecond)
	blocking.Store(true)
	go srv.Charges() // runs the due apply, which blocks in the token check
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the due apply never ran")
	}
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
		t.Error("Close returned while an apply was running")
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	<-closed
}

package visenginetest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// receiver is a callback endpoint that records what it gets.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	got      []received
	failures atomic.Int32 // answer 500 this many times first
}

type received struct {
	contentType string
	body        []byte
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if rc.failures.Add(-1) >= 0 {
			w.WriteHeader(500)
			return
		}
		rc.mu.Lock()
		rc.got = append(rc.got, received{r.Header.Get("Content-Type"), b})
		rc.mu.Unlock()
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) wait(t *testing.T, n int) []received {
	t.Helper()
	require.Eventually(t, func() bool {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		return len(rc.got) >= n
	}, 5*time.Second, 5*time.Millisecond)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// richiestaOf decodes a callback's {"data": <richiesta>}.
func richiestaOf(t *testing.T, doc []byte) map[string]any {
	t.Helper()
	var env struct {
		Data map[string]any `json:"data"`
	}
	require.NoError(t, json.Unmarshal(doc, &env), "%s", doc)
	require.NotNil(t, env.Data)
	return env.Data
}

func TestCallbackJSON(t *testing.T) {
	srv, rc := newServer(t), newReceiver(t)
	body := specBody(t, "post_richiesta_request.json")
	body["callback_data"] = map[string]any{"url": rc.URL + "/hook", "method": "JSON", "field": "x", "data": map[string]string{"pratica": "42"}}
	id := create(t, srv, body)
	_, err := srv.Advance(id)
	require.NoError(t, err)
	got := rc.wait(t, 1)
	assert.Equal(t, "application/json", got[0].contentType)
	d := richiestaOf(t, got[0].body)
	assert.Equal(t, []any{id, "Dati disponibili"}, []any{d["_id"], d["stato_richiesta"]})
	assert.Equal(t, map[string]any{"pratica": "42"}, d["callback_data"].(map[string]any)["data"])
	assert.Equal(t, []any{id + ".pdf"}, d["allegati"])
}

func TestCallbackFormWithField(t *testing.T) {
	for _, tc := range []struct{ method, field, want string }{{"POST", "visengineData", "visengineData"}, {"", "", "data"}} {
		srv, rc := newServer(t), newReceiver(t)
		cb := map[string]any{"url": rc.URL}
		if tc.method != "" {
			cb["method"], cb["field"] = tc.method, tc.field
		}
		id := create(t, srv, map[string]any{"hash_visura": hashRicerca, "json_visura": map[string]string{"$0": "altravia"}, "callback_data": cb})
		got := rc.wait(t, 1) // search results ready
		assert.Equal(t, "application/x-www-form-urlencoded", got[0].contentType)
		form, err := url.ParseQuery(string(got[0].body))
		require.NoError(t, err)
		d := richiestaOf(t, []byte(form.Get(tc.want)))
		assert.Equal(t, []any{id, "In ricerca"}, []any{d["_id"], d["stato_richiesta"]})
	}
}

func TestCallbackRetriesOn500(t *testing.T) {
	srv, rc := newServer(t, WithCallbackRetry(3, time.Millisecond)), newReceiver(t)
	rc.failures.Store(2)
	body := specBody(t, "post_richiesta_request.json")
	body["callback_data"] = map[string]any{"url": rc.URL, "method": "JSON"}
	id := create(t, srv, body)
	require.NoError(t, srv.Complete(id))
	rc.wait(t, 1)
	require.Eventually(t, func() bool { return len(srv.Callbacks()) == 3 }, 5*time.Second, time.Millisecond)
	var statuses, attempts []int
	for _, d := range srv.Callbacks() {
		statuses, attempts = append(statuses, d.Status), append(attempts, d.Attempt)
		assert.Equal(t, id, d.RichiestaID)
	}
	assert.Equal(t, []int{500, 500, 200}, statuses)
	assert.Equal(t, []int{1, 2, 3}, attempts)
}

func TestCallbackGivesUp(t *testing.T) {
	srv, rc := newServer(t, WithCallbackRetry(2, time.Millisecond)), newReceiver(t)
	rc.failures.Store(100)
	body := specBody(t, "post_richiesta_request.json")
	body["callback_data"] = map[string]any{"url": rc.URL, "method": "JSON"}
	id := create(t, srv, body)
	_, err := srv.Advance(id)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(srv.Callbacks()) == 2 }, 5*time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	assert.Len(t, srv.Callbacks(), 2)
}

func TestCallbackNonLoopbackRefused(t *testing.T) {
	srv := newServer(t)
	body := specBody(t, "post_richiesta_request.json")
	body["callback_data"] = map[string]any{"url": "https://www.example.com/callback.php", "method": "JSON"}
	id := create(t, srv, body)
	_, err := srv.Advance(id)
	require.NoError(t, err)
	cbs := srv.Callbacks()
	require.Len(t, cbs, 1)
	assert.Contains(t, cbs[0].Err, "loopback")
	assert.Zero(t, cbs[0].Attempt)
}

func TestCloseStopsCallbacks(t *testing.T) {
	rc := newReceiver(t)
	rc.failures.Store(1000)
	srv := NewServer(WithCallbackRetry(1000, 50*time.Millisecond))
	body := specBody(t, "post_richiesta_request.json")
	body["callback_data"] = map[string]any{"url": rc.URL, "method": "JSON"}
	id := create(t, srv, body)
	_, err := srv.Advance(id)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(srv.Callbacks()) > 0 }, 5*time.Second, time.Millisecond)
	start := time.Now()
	srv.Close()
	assert.Less(t, time.Since(start), 2*time.Second)
	n := len(srv.Callbacks())
	time.Sleep(100 * time.Millisecond)
	assert.Len(t, srv.Callbacks(), n, "nothing after Close")
}

package visenginetest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/visenginetest"
)

// receiver is the user's side of a callback: an HTTP server running
// visengine.CallbackHandler with the secret of its own NewCallback.
type receiver struct {
	*httptest.Server
	cb     *visengine.Callback
	events chan *visengine.CallbackEvent
	mu     sync.Mutex
	calls  int
	fail   int // fn fails this many times first
}

func newReceiver(t *testing.T, method string, c *visengine.Client, fail int) *receiver {
	t.Helper()
	rc := &receiver{events: make(chan *visengine.CallbackEvent, 16), fail: fail}
	var h http.Handler
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(rc.Close)
	cb, err := visengine.NewCallback(rc.URL+"/visengine/callback", method)
	require.NoError(t, err)
	rc.cb = cb
	h, err = visengine.CallbackHandler(func(_ context.Context, ev *visengine.CallbackEvent) error {
		rc.mu.Lock()
		rc.calls++
		failing := rc.calls <= rc.fail
		rc.mu.Unlock()
		if failing {
			return errors.New("database down")
		}
		rc.events <- ev
		return nil
	}, visengine.WithCallbackSecret(cb.Secret()), visengine.WithCallbackClient(c))
	require.NoError(t, err)
	return rc
}

func (rc *receiver) fnCalls() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.calls
}

func (rc *receiver) next(t *testing.T) *visengine.CallbackEvent {
	t.Helper()
	select {
	case ev := <-rc.events:
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no callback delivered")
		return nil
	}
}

// TestSDKCallbackDelivered: Submit with a callback in either form; when the
// fake makes the document ready, the handler's fn gets the richiesta with
// the right id and state, and Reread agrees.
func TestSDKCallbackDelivered(t *testing.T) {
	for _, method := range []string{visengine.CallbackJSON, visengine.CallbackPOST} {
		t.Run(method, func(t *testing.T) {
			srv, c := fake(t)
			rc := newReceiver(t, method, c, 0)
			id := submitA2(t, c, 12, visengine.WithCallback(rc.cb))
			assert.Empty(t, srv.Callbacks(), "nothing to say while in erogazione")

			stato, err := srv.Advance(id)
			require.NoError(t, err)
			require.Equal(t, visengine.StatoDatiDisponibili, stato)
			ev := rc.next(t)
			assert.Equal(t, id, ev.Richiesta.ID)
			assert.Equal(t, visengine.StatoDatiDisponibili, ev.Richiesta.StatoRichiesta)
			assert.True(t, ev.Richiesta.DocumentReady())
			require.NotNil(t, ev.Richiesta.CallbackData)
			assert.Equal(t, method, ev.Richiesta.CallbackData.Method)
			assert.Equal(t, rc.cb.Secret(), ev.Richiesta.CallbackData.Secret())
			again, err := ev.Reread(testCtx(t))
			require.NoError(t, err)
			assert.Equal(t, id, again.ID)
			assert.True(t, again.DocumentReady())

			require.Eventually(t, func() bool { return len(srv.Callbacks()) == 1 }, 5*time.Second, time.Millisecond)
			d := srv.Callbacks()[0]
			assert.Equal(t, []any{id, method, 1, 200, ""}, []any{d.RichiestaID, d.Method, d.Attempt, d.Status, d.Err})
			assert.Equal(t, rc.cb.URL, d.URL)
			assert.Equal(t, 1, rc.fnCalls())

			require.NoError(t, srv.Complete(id))
			time.Sleep(20 * time.Millisecond)
			assert.Len(t, srv.Callbacks(), 1, "Visura evasa is not called back")
		})
	}
}

// TestSDKCallbackWrongSecret: a delivery carrying another secret, or none,
// is refused with 401 and never reaches fn, in both forms.
func TestSDKCallbackWrongSecret(t *testing.T) {
	srv, c := fake(t)
	rc := newReceiver(t, visengine.CallbackJSON, c, 0)
	id := submitA2(t, c, 13, visengine.WithCallback(rc.cb))
	r, err := c.GetRichiesta(testCtx(t), id)
	require.NoError(t, err)
	genuine, err := json.Marshal(map[string]any{"data": json.RawMessage(mustRichiestaJSON(t, srv, id))})
	require.NoError(t, err)
	require.Contains(t, string(genuine), rc.cb.Secret(), "the fake echoes the secret back")

	forged := strings.ReplaceAll(string(genuine), rc.cb.Secret(), strings.Repeat("0", 64))
	missing := strings.ReplaceAll(string(genuine), `"`+visengine.CallbackSecretKey+`"`, `"other"`)
	cases := []struct {
		name, ctype, body string
	}{
		{"JSON, wrong secret", "application/json", forged},
		{"JSON, no secret", "application/json", missing},
		{"form, wrong secret", "application/x-www-form-urlencoded", url.Values{"data": {forged}}.Encode()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(rc.cb.URL, tc.ctype, strings.NewReader(tc.body))
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			assert.Zero(t, rc.fnCalls())
		})
	}
	// The genuine body, posted the same way, is accepted: the 401s above
	// are about the secret and nothing else.
	resp, err := http.Post(rc.cb.URL, "application/json", strings.NewReader(string(genuine)))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, r.ID, rc.next(t).Richiesta.ID)
}

// mustRichiestaJSON is the richiesta's "data" as the fake serves it.
func mustRichiestaJSON(t *testing.T, srv *visenginetest.Server, id string) []byte {
	t.Helper()
	req, err := http.NewRequest("GET", srv.URL+"/richiesta/"+id, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+srv.Token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&env))
	return env.Data
}

// TestSDKCallbackRetriedWhenFnFails: the handler answers 500 while fn
// fails, and the fake delivers again until fn succeeds.
func TestSDKCallbackRetriedWhenFnFails(t *testing.T) {
	for _, method := range []string{visengine.CallbackJSON, visengine.CallbackPOST} {
		t.Run(method, func(t *testing.T) {
			srv, c := fake(t, visenginetest.WithCallbackRetry(4, time.Millisecond))
			rc := newReceiver(t, method, c, 2)
			id := submitA2(t, c, 14, visengine.WithCallback(rc.cb))
			require.NoError(t, srv.Complete(id))
			ev := rc.next(t)
			assert.Equal(t, id, ev.Richiesta.ID)
			assert.True(t, ev.FromAPI)
			assert.Equal(t, visengine.StatoVisuraEvasa, ev.Richiesta.StatoRichiesta,
				"fn gets the state the API has when the handler reads back, not the one posted")
			require.Eventually(t, func() bool { return len(srv.Callbacks()) == 3 }, 5*time.Second, time.Millisecond)
			var attempts, statuses []int
			for _, d := range srv.Callbacks() {
				assert.Equal(t, id, d.RichiestaID)
				attempts, statuses = append(attempts, d.Attempt), append(statuses, d.Status)
			}
			assert.Equal(t, []int{1, 2, 3}, attempts)
			assert.Equal(t, []int{500, 500, 200}, statuses)
			assert.Equal(t, 3, rc.fnCalls())
			time.Sleep(20 * time.Millisecond)
			assert.Len(t, srv.Callbacks(), 3, "no delivery after a 200")
		})
	}
}

// TestSDKCallbackOnSearchResults: a search service calls back when its
// results wait for a choice.
func TestSDKCallbackOnSearchResults(t *testing.T) {
	_, c := fake(t)
	rc := newReceiver(t, visengine.CallbackJSON, c, 0)
	r, err := c.Submit(testCtx(t), getVisura(t, c, hashRicerca), visengine.Values{"$0": "Altravia"}, visengine.WithCallback(rc.cb))
	require.NoError(t, err)
	ev := rc.next(t)
	assert.Equal(t, r.ID, ev.Richiesta.ID)
	assert.True(t, ev.Richiesta.SearchResultsReady())
	assert.Len(t, ev.Richiesta.LastRicerca().Risultati(), 2)
}

// TestSDKCallbackSpecDefaults: a callback sent without "method", or as POST
// without "field", is accepted by the SDK, sent as set, and delivered by
// the fake the spec's way (a form, in the field "data"), which the handler
// reads by default.
func TestSDKCallbackSpecDefaults(t *testing.T) {
	for name, cbOf := range map[string]func(*visengine.Callback) *visengine.Callback{
		"no method": func(cb *visengine.Callback) *visengine.Callback {
			return &visengine.Callback{URL: cb.URL, Data: cb.Data}
		},
		"POST without field": func(cb *visengine.Callback) *visengine.Callback {
			return &visengine.Callback{URL: cb.URL, Method: visengine.CallbackPOST, Data: cb.Data}
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv, c := fake(t)
			rc := newReceiver(t, visengine.CallbackJSON, c, 0)
			cb := cbOf(rc.cb)
			id := submitA2(t, c, 15, visengine.WithCallback(cb))
			sent, err := c.GetRichiesta(testCtx(t), id)
			require.NoError(t, err)
			require.NotNil(t, sent.CallbackData)
			assert.Equal(t, cb.Method, sent.CallbackData.Method, "sent as set")
			assert.Empty(t, sent.CallbackData.Field, "sent as set")

			require.NoError(t, srv.Complete(id))
			ev := rc.next(t)
			assert.Equal(t, id, ev.Richiesta.ID)
			require.Eventually(t, func() bool { return len(srv.Callbacks()) == 1 }, 5*time.Second, time.Millisecond)
			assert.Equal(t, "POST", srv.Callbacks()[0].Method, "the server's default is a form")
			assert.Equal(t, 200, srv.Callbacks()[0].Status)
		})
	}
}

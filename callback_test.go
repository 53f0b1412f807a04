package visengine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testSecret is a callback secret of the shortest accepted length.
var testSecret = strings.Repeat("s", MinCallbackSecretLen)

const cbID = "5f2829ce065afc21cc60ad0e"

// delivery builds the JSON Visengine posts: {"data": <richiesta>} whose
// callback_data echoes the secret.
func delivery(secret string) string {
	return deliveryOf(cbID, StatoDatiDisponibili, secret)
}

func deliveryOf(id string, stato Stato, secret string) string {
	return fmt.Sprintf(`{"data":{"_id":%q,"state":1,"stato_richiesta":%q,"owner":"forger@example.com","allegati":["forged.pdf"],
		"callback_data":{"url":"https://hooks.example.com/v","method":"JSON","field":"","data":{%q:%q}}}}`, id, stato, CallbackSecretKey, secret)
}

// mustHandler builds a handler that must be accepted.
func mustHandler(t testing.TB, fn CallbackFunc, opts ...CallbackOption) http.Handler {
	t.Helper()
	h, err := CallbackHandler(fn, opts...)
	require.NoError(t, err)
	return h
}

// post delivers body to h as JSON and returns the status.
func post(h http.Handler, body string) int {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/cb", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(rec, req)
	return rec.Code
}

// truthAPI is the API a handler reads back from: GET /richiesta/{id}
// answers the richiesta it holds for id, in the stato set, or 404.
type truthAPI struct {
	*countingServer
	mu    sync.Mutex
	stato map[string]Stato
	fail  atomic.Int32 // answer this status instead (0: none)
	delay atomic.Int64 // a time.Duration to wait before answering
}

func newTruthAPI(t testing.TB) *truthAPI {
	api := &truthAPI{stato: map[string]Stato{}}
	api.countingServer = newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+canaryToken {
			writeJSON(w, 401, `{"data":null,"success":false,"message":"read back with the SDK's own token","error":0}`)
			return
		}
		time.Sleep(time.Duration(api.delay.Load()))
		if code := api.fail.Load(); code != 0 {
			writeJSON(w, int(code), `{"data":null,"success":false,"message":"down","error":0}`)
			return
		}
		id := strings.TrimPrefix(r.URL.Path, "/richiesta/")
		api.mu.Lock()
		stato, ok := api.stato[id]
		api.mu.Unlock()
		if !ok {
			writeJSON(w, 404, `{"data":null,"success":false,"message":"no request matches this id","error":202}`)
			return
		}
		writeJSON(w, 200, fmt.Sprintf(`{"data":{"_id":%q,"state":1,"stato_richiesta":%q,"owner":"owner@caf.example","allegati":[],
			"callback_data":{"url":"https://hooks.example.com/v","method":"JSON","data":{%q:%q}}},"success":true,"message":"","error":null}`,
			id, stato, CallbackSecretKey, testSecret))
	})
	return api
}

func (a *truthAPI) set(id string, s Stato) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stato[id] = s
}

// recorder is a CallbackFunc that keeps what it was given.
type recorder struct {
	mu     sync.Mutex
	events []*CallbackEvent
	err    error
}

func (rc *recorder) fn(_ context.Context, ev *CallbackEvent) error {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.events = append(rc.events, ev)
	return rc.err
}

func (rc *recorder) calls() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.events)
}

func (rc *recorder) last() *CallbackEvent {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.events[len(rc.events)-1]
}

func TestCallbackHandler(t *testing.T) {
	form := func(field, payload string) string { return url.Values{field: {payload}}.Encode() }
	cases := []struct {
		name, method, ctype, body string
		fnErr                     error
		opts                      []CallbackOption
		status, calls             int
	}{
		{"json", "POST", "application/json", delivery(testSecret), nil, nil, 200, 1},
		{"json with charset", "POST", "application/json; charset=utf-8", delivery(testSecret), nil, nil, 200, 1},
		{"form", "POST", "application/x-www-form-urlencoded", form("data", delivery(testSecret)), nil, nil, 200, 1},
		{"form custom field", "POST", "application/x-www-form-urlencoded", form("visengineData", delivery(testSecret)), nil,
			[]CallbackOption{WithCallbackField("visengineData")}, 200, 1},
		{"form missing field", "POST", "application/x-www-form-urlencoded", form("other", delivery(testSecret)), nil, nil, 400, 0},
		{"wrong secret", "POST", "application/json", delivery(strings.Repeat("g", 64)), nil, nil, 401, 0},
		{"secret prefix", "POST", "application/json", delivery(testSecret[:10]), nil, nil, 401, 0},
		{"empty secret", "POST", "application/json", delivery(""), nil, nil, 401, 0},
		{"missing secret", "POST", "application/json", `{"data":{"_id":"abc","state":1,"callback_data":false}}`, nil, nil, 401, 0},
		{"secret not a string", "POST", "application/json", `{"data":{"_id":"abc","state":1,"callback_data":{"data":{"visengine_secret":1}}}}`, nil, nil, 401, 0},
		{"too big", "POST", "application/json", delivery(testSecret) + strings.Repeat(" ", 2<<20), nil, nil, 413, 0},
		{"small cap", "POST", "application/json", delivery(testSecret), nil, []CallbackOption{WithCallbackMaxBody(64)}, 413, 0},
		{"content type", "POST", "text/plain", delivery(testSecret), nil, nil, 415, 0},
		{"no content type", "POST", "", delivery(testSecret), nil, nil, 415, 0},
		{"bad json", "POST", "application/json", `{"data":`, nil, nil, 400, 0},
		{"no data", "POST", "application/json", `{"success":true}`, nil, nil, 400, 0},
		{"bad id", "POST", "application/json", `{"data":{"_id":"../x"}}`, nil, nil, 400, 0},
		{"get", "GET", "application/json", "", nil, nil, 405, 0},
		{"put", "PUT", "application/json", delivery(testSecret), nil, nil, 405, 0},
		{"fn fails", "POST", "application/json", delivery(testSecret), errors.New("db down"), nil, 500, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rc := &recorder{err: tc.fnErr}
			h := mustHandler(t, rc.fn, append([]CallbackOption{WithCallbackSecret(testSecret)}, tc.opts...)...)
			req := httptest.NewRequest(tc.method, "/visengine/callback", strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, tc.status, rec.Code)
			assert.Equal(t, tc.calls, rc.calls())
			assert.NotContains(t, rec.Body.String(), testSecret)
			if tc.status == 200 {
				ev := rc.last()
				assert.Equal(t, cbID, ev.Richiesta.ID)
				assert.Equal(t, StatoDatiDisponibili, ev.Richiesta.StatoRichiesta)
				assert.False(t, ev.FromAPI, "without a client fn gets the posted body, and is told so")
			}
			if tc.status == 405 {
				assert.Equal(t, "POST", rec.Header().Get("Allow"))
			}
		})
	}
}

// Every configuration the handler could not work with is refused when it
// is built, not at the first delivery.
func TestCallbackHandlerRefusedWhenBuilt(t *testing.T) {
	ok := func(context.Context, *CallbackEvent) error { return nil }
	short := strings.Repeat("k", MinCallbackSecretLen-1)
	c := newTestClient(t, "http://127.0.0.1:1")
	secret := WithCallbackSecret(testSecret)
	cases := []struct {
		name string
		fn   CallbackFunc
		opts []CallbackOption
	}{
		{"nil fn", nil, []CallbackOption{secret}},
		{"no secret", ok, nil},
		{"one-byte secret", ok, []CallbackOption{WithCallbackSecret("x")}},
		{"empty secret", ok, []CallbackOption{WithCallbackSecret("")}},
		{"secret one byte short", ok, []CallbackOption{WithCallbackSecret(short)}},
		{"no secrets", ok, []CallbackOption{WithCallbackSecrets()}},
		{"a short secret among good ones", ok, []CallbackOption{WithCallbackSecrets(testSecret, short)}},
		{"an empty secret among good ones", ok, []CallbackOption{WithCallbackSecrets("", testSecret)}},
		{"max body 0", ok, []CallbackOption{secret, WithCallbackMaxBody(0)}},
		{"max body -1", ok, []CallbackOption{secret, WithCallbackMaxBody(-1)}},
		{"nil client", ok, []CallbackOption{secret, WithCallbackClient(nil)}},
		{"client not made by NewClient", ok, []CallbackOption{secret, WithCallbackClient(&Client{})}},
		{"reread timeout without a client", ok, []CallbackOption{secret, WithCallbackRereadTimeout(time.Second)}},
		{"reread timeout 0", ok, []CallbackOption{secret, WithCallbackClient(c), WithCallbackRereadTimeout(0)}},
		{"empty form field", ok, []CallbackOption{secret, WithCallbackField("")}},
		{"negative dedupe window", ok, []CallbackOption{secret, WithCallbackDedupe(-time.Second, 10)}},
		{"dedupe without room", ok, []CallbackOption{secret, WithCallbackDedupe(time.Hour, 0)}},
		{"nil option", ok, []CallbackOption{secret, nil}},
		{"reread limit without a client", ok, []CallbackOption{secret, WithCallbackRereadLimit(4)}},
		{"reread limit 0", ok, []CallbackOption{secret, WithCallbackClient(c), WithCallbackRereadLimit(0)}},
		{"retry after 0", ok, []CallbackOption{secret, WithCallbackRetryAfter(0)}},
		{"nil dedupe store", ok, []CallbackOption{secret, WithCallbackDedupeStore(nil)}},
		{"dedupe store without a window", ok, []CallbackOption{secret, WithCallbackDedupeStore(newMemStore()), WithCallbackDedupe(0, 0)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, err := CallbackHandler(tc.fn, tc.opts...)
			assert.Nil(t, h)
			require.ErrorIs(t, err, ErrInvalidArgument)
			assert.NotContains(t, err.Error(), short)
			assert.NotContains(t, err.Error(), testSecret)
		})
	}
	// The same options with usable values build.
	for _, opts := range [][]CallbackOption{
		{secret},
		{WithCallbackSecrets(testSecret, strings.Repeat("n", 64))},
		{secret, WithCallbackClient(c), WithCallbackRereadTimeout(time.Second)},
		{WithCallbackRereadTimeout(time.Second), WithCallbackClient(c), secret}, // in any order
		{secret, WithCallbackMaxBody(1), WithCallbackField("x"), WithCallbackDedupe(0, 0)},
		{WithCallbackRereadLimit(1), WithCallbackClient(c), secret, WithCallbackRetryAfter(time.Millisecond)},
		{secret, WithCallbackDedupeStore(newMemStore()), WithCallbackDedupe(time.Minute, 1)},
	} {
		_, err := CallbackHandler(ok, opts...)
		assert.NoError(t, err)
	}
}

// A delivery is a hint: with a client, fn gets the richiesta as the API
// has it, never the posted state, owner or allegati.
func TestCallbackForgedBodyReachesFnAsTheAPIsTruth(t *testing.T) {
	api := newTruthAPI(t)
	api.set(cbID, StatoInErogazione)
	rc := &recorder{}
	h := mustHandler(t, rc.fn, WithCallbackSecret(testSecret), WithCallbackClient(newTestClient(t, api.URL)))

	require.Equal(t, 200, post(h, delivery(testSecret)))
	require.Equal(t, 1, rc.calls())
	ev := rc.last()
	assert.True(t, ev.FromAPI)
	assert.Equal(t, cbID, ev.Richiesta.ID)
	assert.Equal(t, StatoInErogazione, ev.Richiesta.StatoRichiesta, "the API's stato, not the forged Dati disponibili")
	assert.Equal(t, "owner@caf.example", ev.Richiesta.Owner)
	assert.Empty(t, ev.Richiesta.Allegati, "forged allegati never reach fn")
	assert.EqualValues(t, 1, api.hits.Load(), "a forged body costs one read")

	again, err := ev.Reread(context.Background())
	require.NoError(t, err)
	assert.Equal(t, StatoInErogazione, again.StatoRichiesta)
}

// When the read-back fails, fn is not called and the handler answers 503,
// so that Visengine may deliver again.
func TestCallbackRereadFailureAnswers503(t *testing.T) {
	api := newTruthAPI(t)
	api.set(cbID, StatoDatiDisponibili)
	rc := &recorder{}
	c := newTestClient(t, api.URL)
	h := mustHandler(t, rc.fn, WithCallbackSecret(testSecret), WithCallbackClient(c),
		WithCallbackRereadTimeout(100*time.Millisecond))

	assert.Equal(t, 503, post(h, deliveryOf("000000000000000000000000", StatoDatiDisponibili, testSecret)), "an id the API does not know")
	api.fail.Store(500)
	assert.Equal(t, 503, post(h, delivery(testSecret)), "the API failing")
	api.fail.Store(0)
	api.delay.Store(int64(time.Second))
	start := time.Now()
	assert.Equal(t, 503, post(h, delivery(testSecret)), "the API too slow")
	// Far above the 100ms timeout and far below the API's second, so that
	// a loaded machine does not fail it.
	assert.Less(t, time.Since(start), 800*time.Millisecond, "bounded by WithCallbackRereadTimeout")
	assert.Zero(t, rc.calls())

	api.delay.Store(0)
	assert.Equal(t, 200, post(h, delivery(testSecret)), "delivered again once the API answers")
	assert.Equal(t, 1, rc.calls())
}

// A delivery repeated within the window is acknowledged without calling
// fn again; a new stato, a failed fn or an expired entry calls it again.
func TestCallbackReplaysCallFnOnce(t *testing.T) {
	api := newTruthAPI(t)
	api.set(cbID, StatoInRicerca)
	rc := &recorder{}
	h := mustHandler(t, rc.fn, WithCallbackSecret(testSecret), WithCallbackClient(newTestClient(t, api.URL)))

	for range 5 {
		assert.Equal(t, 200, post(h, delivery(testSecret)))
	}
	assert.Equal(t, 1, rc.calls(), "replays are acknowledged, not handled again")

	api.set(cbID, StatoDatiDisponibili)
	assert.Equal(t, 200, post(h, delivery(testSecret)))
	assert.Equal(t, 2, rc.calls(), "a new stato is a new event")
	assert.Equal(t, StatoDatiDisponibili, rc.last().Richiesta.StatoRichiesta)

	// A forged stato neither calls fn twice nor silences the genuine
	// delivery: the key is the API's stato.
	api.set("5f2829ce065afc21cc60ad0f", StatoInErogazione)
	forged := deliveryOf("5f2829ce065afc21cc60ad0f", StatoDatiDisponibili, testSecret)
	assert.Equal(t, 200, post(h, forged))
	assert.Equal(t, StatoInErogazione, rc.last().Richiesta.StatoRichiesta)
	api.set("5f2829ce065afc21cc60ad0f", StatoDatiDisponibili)
	assert.Equal(t, 200, post(h, forged))
	assert.Equal(t, 4, rc.calls(), "the genuine Dati disponibili still reaches fn")
	assert.Equal(t, StatoDatiDisponibili, rc.last().Richiesta.StatoRichiesta)
}

func TestCallbackFnFailureIsNotRemembered(t *testing.T) {
	rc := &recorder{err: errors.New("db down")}
	h := mustHandler(t, rc.fn, WithCallbackSecret(testSecret))
	assert.Equal(t, 500, post(h, delivery(testSecret)))
	rc.err = nil
	assert.Equal(t, 200, post(h, delivery(testSecret)), "the retry after a failure is handled")
	assert.Equal(t, 200, post(h, delivery(testSecret)))
	assert.Equal(t, 2, rc.calls())
}

func TestCallbackDedupeWindowAndCapacity(t *testing.T) {
	rc := &recorder{}
	h := mustHandler(t, rc.fn, WithCallbackSecret(testSecret), WithCallbackDedupe(500*time.Millisecond, 1000)) // room for two posts on a loaded machine
	assert.Equal(t, 200, post(h, delivery(testSecret)))
	assert.Equal(t, 200, post(h, delivery(testSecret)))
	assert.Equal(t, 1, rc.calls())
	time.Sleep(600 * time.Millisecond)
	assert.Equal(t, 200, post(h, delivery(testSecret)))
	assert.Equal(t, 2, rc.calls(), "forgotten after the window")

	rc = &recorder{}
	h = mustHandler(t, rc.fn, WithCallbackSecret(testSecret), WithCallbackDedupe(time.Hour, 2))
	for _, id := range []string{"a1", "a2", "a3", "a1"} {
		assert.Equal(t, 200, post(h, deliveryOf(id, StatoDatiDisponibili, testSecret)))
	}
	assert.Equal(t, 4, rc.calls(), "the oldest is forgotten when the memory is full")

	rc = &recorder{}
	h = mustHandler(t, rc.fn, WithCallbackSecret(testSecret), WithCallbackDedupe(0, 0))
	assert.Equal(t, 200, post(h, delivery(testSecret)))
	assert.Equal(t, 200, post(h, delivery(testSecret)))
	assert.Equal(t, 2, rc.calls(), "a window of 0 remembers nothing")
}

// The memory stays bounded whatever is posted, and expiry is by insertion.
func TestDedupeBounded(t *testing.T) {
	now := time.Unix(0, 0)
	d := newDedupe(time.Minute, 100, func() time.Time { return now })
	k := func(s string) eventKey { return keyOf(s, StatoDatiDisponibili) }
	longest := 0
	for i := range 10000 {
		key := k(fmt.Sprint(i))
		if d.claim(key) != claimMine {
			t.Fatalf("%d: a new key is not handled", i)
		}
		d.finish(key, true)
		longest = max(longest, d.size(), len(d.queue)-d.head)
		if len(d.queue) > 201 {
			t.Fatalf("the queue grew to %d", len(d.queue))
		}
	}
	assert.Equal(t, 100, longest)
	assert.Equal(t, claimDone, d.claim(k("9999")))
	assert.Equal(t, claimMine, d.claim(k("0")), "forgotten to make room")
	assert.Equal(t, claimBusy, d.claim(k("0")), "a second claim while the first is handled")
	d.finish(k("0"), false)
	assert.Equal(t, claimMine, d.claim(k("0")), "a failure is not remembered")
	d.finish(k("0"), true)
	now = now.Add(time.Minute)
	assert.Equal(t, claimMine, d.claim(k("9999")), "expired")
	assert.LessOrEqual(t, d.size(), 1)
	var none *dedupe
	assert.Equal(t, claimMine, none.claim(k("x")))
	none.finish(k("x"), true)
}

// A repeat that arrives while the first delivery is handled is answered
// 503, and fn runs once.
func TestCallbackConcurrentDuplicate(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	h := mustHandler(t, func(context.Context, *CallbackEvent) error {
		calls.Add(1)
		close(entered)
		<-release
		return nil
	}, WithCallbackSecret(testSecret))
	first := make(chan int)
	go func() { first <- post(h, delivery(testSecret)) }()
	<-entered
	assert.Equal(t, 503, post(h, delivery(testSecret)))
	close(release)
	assert.Equal(t, 200, <-first)
	assert.Equal(t, 200, post(h, delivery(testSecret)))
	assert.EqualValues(t, 1, calls.Load())
}

func TestCallbackHandlerConcurrentDeliveries(t *testing.T) {
	var calls atomic.Int32
	seen := sync.Map{}
	srv := httptest.NewServer(mustHandler(t, func(_ context.Context, ev *CallbackEvent) error {
		calls.Add(1)
		seen.Store(ev.Richiesta.ID, true)
		return nil
	}, WithCallbackSecret(testSecret)))
	defer srv.Close()
	var wg sync.WaitGroup
	var ok atomic.Int32
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := deliveryOf(fmt.Sprintf("%024d", i), StatoDatiDisponibili, testSecret)
			ctype := "application/json"
			if i%2 == 1 {
				body, ctype = url.Values{"data": {body}}.Encode(), "application/x-www-form-urlencoded"
			}
			resp, err := http.Post(srv.URL, ctype, strings.NewReader(body))
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	assert.EqualValues(t, 100, ok.Load())
	assert.EqualValues(t, 100, calls.Load())
	n := 0
	seen.Range(func(any, any) bool { n++; return true })
	assert.Equal(t, 100, n)
}

func TestCallbackEventRereadNeedsAClient(t *testing.T) {
	_, err := (&CallbackEvent{Richiesta: &Richiesta{ID: cbID}}).Reread(context.Background())
	assert.Error(t, err, "without a client there is nothing to re-read with")
	_, err = (*CallbackEvent)(nil).Reread(context.Background())
	assert.ErrorIs(t, err, ErrInvalidArgument)
}

// FuzzCallbackHandler posts arbitrary bodies, each twice, to a handler that
// reads back from an API knowing one richiesta. It must never panic, never
// call fn without the secret, hand fn only the API's richiesta, call fn at
// most once per (id, stato), and answer only the documented statuses.
func FuzzCallbackHandler(f *testing.F) {
	api := newTruthAPI(f)
	api.set(cbID, StatoInErogazione)
	c := newTestClient(f, api.URL, WithRetry(1, 0, 0))
	f.Add("application/json", delivery(testSecret))
	f.Add("application/json", delivery(strings.Repeat("n", 64)))
	f.Add("application/json", deliveryOf("000000000000000000000000", StatoDatiDisponibili, testSecret))
	f.Add("application/x-www-form-urlencoded", url.Values{"data": {delivery(testSecret)}}.Encode())
	f.Add("application/json", `{"data":{"_id":"a","callback_data":{"data":{"visengine_secret":1}}}}`)
	f.Add("text/plain", "x")
	f.Fuzz(func(t *testing.T, ctype, body string) {
		calls := 0
		h := mustHandler(t, func(_ context.Context, ev *CallbackEvent) error {
			calls++
			if !ev.FromAPI || ev.Richiesta.ID != cbID || ev.Richiesta.StatoRichiesta != StatoInErogazione {
				t.Fatalf("fn got something other than the API's richiesta: %v", ev)
			}
			return nil
		}, WithCallbackSecret(testSecret), WithCallbackMaxBody(4096), WithCallbackClient(c))
		var statuses []int
		for range 2 {
			req := httptest.NewRequest("POST", "/", strings.NewReader(body))
			req.Header.Set("Content-Type", ctype)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			statuses = append(statuses, rec.Code)
			switch rec.Code {
			case 200, 400, 401, 413, 415, 503:
			default:
				t.Fatalf("unexpected status %d", rec.Code)
			}
			if strings.Contains(rec.Body.String(), testSecret) {
				t.Fatal("the answer echoes the secret")
			}
		}
		if statuses[0] != statuses[1] {
			t.Fatalf("a replay was answered %d after %d", statuses[1], statuses[0])
		}
		if want := map[bool]int{true: 1, false: 0}[statuses[0] == 200]; calls != want {
			t.Fatalf("fn called %d times for statuses %v", calls, statuses)
		}
	})
}

func TestNewCallbackWithSecret(t *testing.T) {
	secret := strings.Repeat("k", MinCallbackSecretLen)
	cb, err := NewCallbackWithSecret("https://hooks.example.com/v", CallbackPOST, secret)
	require.NoError(t, err)
	assert.Equal(t, secret, cb.Secret())
	assert.Equal(t, DefaultCallbackField, cb.Field)
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		assert.NotContains(t, fmt.Sprintf(verb, cb), secret)
	}

	for _, short := range []string{"", "short", secret[:MinCallbackSecretLen-1]} {
		cb, err := NewCallbackWithSecret("https://hooks.example.com/v", CallbackJSON, short)
		assert.ErrorIs(t, err, ErrInvalidArgument, "%q", short)
		assert.Nil(t, cb)
	}
	_, err = NewCallbackWithSecret("http://hooks.example.com/v", CallbackJSON, secret)
	assert.ErrorIs(t, err, ErrInvalidArgument, "the URL is still checked")

	// The persisted callback rebuilt after a restart is accepted by a
	// handler given the same secret.
	first, err := NewCallback("https://hooks.example.com/v", CallbackJSON)
	require.NoError(t, err)
	again, err := NewCallbackWithSecret(first.URL, first.Method, first.Secret())
	require.NoError(t, err)
	assert.Equal(t, first, again)
	h := mustHandler(t, func(context.Context, *CallbackEvent) error { return nil }, WithCallbackSecret(first.Secret()))
	assert.Equal(t, 200, post(h, delivery(again.Secret())))
}

func TestCallbackHandlerSecretsForRotation(t *testing.T) {
	oldSecret := strings.Repeat("o", 64)
	newSecret := strings.Repeat("n", 64)
	ok := func(context.Context, *CallbackEvent) error { return nil }
	noDedupe := WithCallbackDedupe(0, 0)

	both := mustHandler(t, ok, WithCallbackSecrets(oldSecret, newSecret), noDedupe)
	assert.Equal(t, 200, post(both, delivery(oldSecret)))
	assert.Equal(t, 200, post(both, delivery(newSecret)))
	assert.Equal(t, 401, post(both, delivery(strings.Repeat("g", 64))))
	assert.Equal(t, 401, post(both, delivery("")))
	assert.Equal(t, 401, post(both, delivery(oldSecret[:10])))
	assert.Equal(t, 401, post(both, delivery(oldSecret+newSecret)))

	// The last option wins: after rotation the old secret is refused.
	rotated := mustHandler(t, ok, WithCallbackSecrets(oldSecret, newSecret), WithCallbackSecret(newSecret), noDedupe)
	assert.Equal(t, 401, post(rotated, delivery(oldSecret)))
	assert.Equal(t, 200, post(rotated, delivery(newSecret)))
}

// The vendor's spec makes every key of callback_data optional: without
// "method" Visengine posts a form, without "field" in the field "data".
// Such callbacks are accepted and sent as set.
func TestCallbackSentAsSet(t *testing.T) {
	cases := []struct {
		name string
		cb   *Callback
		want string
	}{
		{"no method", &Callback{URL: "https://hooks.example.com/v"},
			`{"url":"https://hooks.example.com/v","data":{}}`},
		{"POST without field", &Callback{URL: "https://hooks.example.com/v", Method: CallbackPOST},
			`{"url":"https://hooks.example.com/v","method":"POST","data":{}}`},
		{"JSON with data", &Callback{URL: "https://hooks.example.com/v", Method: CallbackJSON, Data: map[string]any{"k": "v"}},
			`{"url":"https://hooks.example.com/v","method":"JSON","data":{"k":"v"}}`},
		{"POST with field", &Callback{URL: "https://hooks.example.com/v", Method: CallbackPOST, Field: "visengineData"},
			`{"url":"https://hooks.example.com/v","method":"POST","field":"visengineData","data":{}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, mock := mockClient(t)
			var sent map[string]json.RawMessage
			mock.RegisterResponder("POST", mockBase+"/richiesta", func(r *http.Request) (*http.Response, error) {
				require.NoError(t, json.NewDecoder(r.Body).Decode(&sent))
				return httpmock.NewStringResponse(200, `{"data":{"_id":"`+cbID+`","state":0},"success":true,"message":"","error":null}`), nil
			})
			_, err := c.CreateRichiesta(context.Background(), &RichiestaParams{HashVisura: "eccbc87e4b5ce2fe28308fd9f2a7baf3", CallbackData: tc.cb})
			require.NoError(t, err)
			assert.JSONEq(t, tc.want, string(sent["callback_data"]))
		})
	}
	cb, err := NewCallback("https://hooks.example.com/v", "")
	require.NoError(t, err, "NewCallback accepts Visengine's default method")
	b, err := json.Marshal(cb)
	require.NoError(t, err)
	assert.NotContains(t, string(b), `"method"`)
	assert.NotContains(t, string(b), `"field"`)
}

// A secret planted in a Callback by hand is held to the same minimum, and
// the refusals never quote the URL's credentials.
func TestCallbackCheckRefusals(t *testing.T) {
	const creds = "https://user:pa55w0rd@hooks.example.com/v?token=Q5ECRETQ"
	cases := map[string]*Callback{
		"short secret in Data":  {URL: "https://hooks.example.com/v", Method: CallbackJSON, Data: map[string]any{CallbackSecretKey: "x"}},
		"secret not a string":   {URL: "https://hooks.example.com/v", Data: map[string]any{CallbackSecretKey: 12345}},
		"unknown method":        {URL: creds, Method: "XML"},
		"plain http":            {URL: "http://user:pa55w0rd@hooks.example.com/v?token=Q5ECRETQ"},
		"relative URL":          {URL: "/v?token=Q5ECRETQ"},
		"lower-case method":     {URL: creds, Method: "json"},
		"unparsable with creds": {URL: "https://user:pa55w0rd@[::1/v?token=Q5ECRETQ"},
	}
	for name, cb := range cases {
		t.Run(name, func(t *testing.T) {
			err := cb.check()
			require.ErrorIs(t, err, ErrInvalidArgument)
			for _, s := range []string{"pa55w0rd", "Q5ECRETQ", "user:"} {
				assert.NotContains(t, err.Error(), s)
				assert.NotContains(t, fmt.Sprintf("%+v", *cb), s)
			}
		})
	}
	_, err := NewCallback(creds, "XML")
	require.ErrorIs(t, err, ErrInvalidArgument)
	assert.NotContains(t, err.Error(), "pa55w0rd")
	assert.NotContains(t, err.Error(), "Q5ECRETQ")
	cb, err := NewCallback(creds, CallbackJSON)
	require.NoError(t, err, "credentials in a callback URL are the caller's business")
	assert.Equal(t, "visengine.Callback{URL:https://hooks.example.com/v Method:JSON Field:}", fmt.Sprint(cb))
}

// size reports, for the tests, how many events are remembered.
func (d *dedupe) size() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.done)
}

// retained counts, for the tests and benchmarks, the bytes the memory of
// events holds: keys and times in the maps, the queue's whole array. It
// leaves out the maps' own overhead, which grows with the same entries.
func (d *dedupe) retained() int {
	if d == nil {
		return 0
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	key := len(eventKey{})
	return len(d.done)*(key+8) + cap(d.queue)*key + len(d.busy)*key
}

// memStore is a CallbackDedupe in memory, as a replica-shared store would
// behave, that can be made to fail and counts its claims.
type memStore struct {
	mu     sync.Mutex
	marks  map[string]memMark
	fail   error
	claims int
}

type memMark struct {
	holder string
	done   bool
	until  time.Time
}

func newMemStore() *memStore { return &memStore{marks: map[string]memMark{}} }

func (s *memStore) ClaimCallback(_ context.Context, key, holder string, lease time.Duration) (CallbackClaim, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.claims++
	if s.fail != nil {
		return 0, s.fail
	}
	if m, ok := s.marks[key]; ok && time.Now().Before(m.until) {
		if m.done {
			return CallbackDone, nil
		}
		return CallbackBusy, nil
	}
	s.marks[key] = memMark{holder: holder, until: time.Now().Add(lease)}
	return CallbackClaimed, nil
}

func (s *memStore) SettleCallback(_ context.Context, key, holder string, handled bool, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.marks[key]; ok && m.holder == holder && !m.done {
		if handled {
			s.marks[key] = memMark{holder: holder, done: true, until: time.Now().Add(ttl)}
		} else {
			delete(s.marks, key)
		}
	}
	return s.fail
}

// Two handlers sharing a store call fn once for an event both receive;
// an event the store says is done is acknowledged without a read and
// remembered locally; a store that cannot be reached makes the handler
// answer 503, and the event is handled once it can.
func TestCallbackDedupeStoreShared(t *testing.T) {
	api := newTruthAPI(t)
	api.set(cbID, StatoDatiDisponibili)
	store := newMemStore()
	rc := &recorder{}
	opts := []CallbackOption{WithCallbackSecret(testSecret), WithCallbackClient(newTestClient(t, api.URL)), WithCallbackDedupeStore(store)}
	a, b := mustHandler(t, rc.fn, opts...), mustHandler(t, rc.fn, opts...)

	assert.Equal(t, 200, post(a, delivery(testSecret)))
	assert.Equal(t, 200, post(b, delivery(testSecret)), "handled on the other replica")
	assert.Equal(t, 1, rc.calls())
	assert.EqualValues(t, 1, api.hits.Load(), "the store's answer needs no read")
	claims := store.claims
	assert.Equal(t, 200, post(b, delivery(testSecret)))
	assert.Equal(t, claims, store.claims, "remembered locally: the store is not asked again")

	store.fail = errors.New("connection refused")
	other := deliveryOf("5f2829ce065afc21cc60ad0f", StatoDatiDisponibili, testSecret)
	api.set("5f2829ce065afc21cc60ad0f", StatoDatiDisponibili)
	rec := httptestRecorder(a, "application/json", other)
	assert.Equal(t, 503, rec.Code, "the store cannot be reached")
	assert.Equal(t, "30", rec.Header().Get("Retry-After"))
	store.fail = nil
	assert.Equal(t, 200, post(a, other), "handled once the store answers")
	assert.Equal(t, 2, rc.calls())
}

// A read-back is made once per delivery, whatever the API answers: the
// client's retries (3 attempts here) are not used inside the handler.
// After a 429 or 503 the handler reads nothing for the Retry-After, and
// reads again after it.
func TestCallbackReadBackNeverRetried(t *testing.T) {
	api := newTruthAPI(t)
	api.set(cbID, StatoDatiDisponibili)
	rc := &recorder{}
	h := mustHandler(t, rc.fn, WithCallbackSecret(testSecret), WithCallbackClient(newTestClient(t, api.URL)),
		WithCallbackRetryAfter(1500*time.Millisecond))

	api.fail.Store(500)
	for range 3 {
		rec := httptestRecorder(h, "application/json", delivery(testSecret))
		assert.Equal(t, 503, rec.Code)
		assert.Equal(t, "2", rec.Header().Get("Retry-After"), "1.5s, rounded up")
	}
	assert.EqualValues(t, 3, api.hits.Load(), "one read per delivery, none retried")

	for _, code := range []int32{429, 503} {
		api.hits.Store(0)
		api.fail.Store(code)
		h := mustHandler(t, rc.fn, WithCallbackSecret(testSecret), WithCallbackClient(newTestClient(t, api.URL)),
			WithCallbackRetryAfter(500*time.Millisecond)) // room for five posts on a loaded machine
		for range 5 {
			assert.Equal(t, 503, post(h, delivery(testSecret)))
		}
		assert.EqualValues(t, 1, api.hits.Load(), "%d: the API asked to slow down; nothing is read until the Retry-After", code)
		api.fail.Store(0)
		time.Sleep(550 * time.Millisecond)
		assert.Equal(t, 200, post(h, delivery(testSecret)), "%d: read again after the Retry-After", code)
		assert.EqualValues(t, 2, api.hits.Load())
	}
	assert.Equal(t, 2, rc.calls())
}

// A repeat answered 503 because the first delivery is still being handled
// says when to deliver again.
func TestCallbackBusyAnswerHasRetryAfter(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	h := mustHandler(t, func(context.Context, *CallbackEvent) error {
		close(entered)
		<-release
		return nil
	}, WithCallbackSecret(testSecret), WithCallbackRetryAfter(90*time.Second))
	first := make(chan int)
	go func() { first <- post(h, delivery(testSecret)) }()
	<-entered
	rec := httptestRecorder(h, "application/json", delivery(testSecret))
	assert.Equal(t, 503, rec.Code)
	assert.Equal(t, "90", rec.Header().Get("Retry-After"))
	close(release)
	assert.Equal(t, 200, <-first)
}

// Different ids or stati never share a fingerprint, however they are cut.
func TestCallbackEventKeys(t *testing.T) {
	keys := map[eventKey]string{}
	for _, c := range [][2]string{{"ab", "c"}, {"a", "bc"}, {"abc", ""}, {"a", "b\x00c"}, {"a", "b"}, {"a", "B"}} {
		k := keyOf(c[0], Stato(c[1]))
		_, dup := keys[k]
		assert.False(t, dup, "%q", c)
		keys[k] = c[0]
		assert.Len(t, k.String(), 64)
	}
	assert.Equal(t, keyOf("a", "b"), keyOf("a", "b"))
}

// A panicking fn does not leave its event busy for ever: net/http
// recovers the panic, and the next delivery is handled.
func TestCallbackPanicReleasesTheEvent(t *testing.T) {
	api := newTruthAPI(t)
	api.set(cbID, StatoDatiDisponibili)
	var calls atomic.Int32
	h := mustHandler(t, func(context.Context, *CallbackEvent) error {
		if calls.Add(1) == 1 {
			panic("integrator's bug")
		}
		return nil
	}, WithCallbackSecret(testSecret), WithCallbackClient(newTestClient(t, api.URL)))
	assert.Panics(t, func() { post(h, delivery(testSecret)) })
	assert.Equal(t, 200, post(h, delivery(testSecret)), "handled again, not refused as busy")
	assert.EqualValues(t, 2, calls.Load())
}

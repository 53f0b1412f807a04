package visengine

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flood is one file of testdata/hostile/callbacks/floods: deliveries that
// carry the secret, posted to one CallbackHandler, and what they may cost.
type flood struct {
	About      string `json:"about"`
	Client     bool   `json:"client"`     // WithCallbackClient, reading back from floodAPI
	Deliveries int    `json:"deliveries"` // how many
	Concurrent bool   `json:"concurrent"` // all at once, or one after another
	IDs        int    `json:"ids"`        // distinct richieste, cycled (default 1)
	Stati      int    `json:"stati"`      // distinct posted stati, cycled (default 1: the API's)
	StatoBytes int    `json:"stato_bytes"`
	APIStatus  int    `json:"api_status"` // the API answers this instead of the richiesta
	APIDelay   string `json:"api_delay"`
	Hold       bool   `json:"hold"`  // the API answers once every delivery returned or waits on a read
	Limit      int    `json:"limit"` // WithCallbackRereadLimit; 0 for the default
	Want       struct {
		Reads      *int           `json:"reads"`      // GETs the API saw, exactly
		ReadsMax   int            `json:"reads_max"`  // or at most
		InFlight   int            `json:"in_flight"`  // GETs in flight at once, at most
		Fn         int            `json:"fn"`         // calls of fn
		Statuses   map[string]int `json:"statuses"`   // answers by status; -1 for any number
		Goroutines int            `json:"goroutines"` // peak over the baseline, at most
		Retained   int            `json:"retained"`   // bytes the memory of events holds, at most
	} `json:"want"`
}

// bodies builds the deliveries of f, from one template per stato: a
// stato of half a megabyte is quoted once, not once per delivery.
func (f *flood) bodies() []string {
	ids, stati := max(f.IDs, 1), max(f.Stati, 1)
	const placeholder = "ID0000000000000000000000"
	templates := make([]string, stati)
	for i := range templates {
		stato := StatoDatiDisponibili + Stato(strings.Repeat("x", max(f.StatoBytes-len(StatoDatiDisponibili), 0)))
		if stati > 1 {
			stato = Stato(fmt.Sprintf("forged-%d", i))
		}
		// Every stato here is plain ASCII: it goes in unquoted, which
		// under -race is seconds faster than %q over half a megabyte.
		templates[i] = strings.Replace(deliveryOf(placeholder, "STATO", testSecret), `"STATO"`, `"`+string(stato)+`"`, 1)
	}
	out := make([]string, f.Deliveries)
	for i := range out {
		out[i] = strings.Replace(templates[i%stati], placeholder, fmt.Sprintf("%024d", i%ids), 1)
	}
	return out
}

// floodRun is what a flood cost.
type floodRun struct {
	statuses   map[int]int
	goroutines int // peak over the baseline
	retained   int
	noRetry    int // 503s without a Retry-After
}

// run posts f's deliveries to h, watching the goroutines, and releases
// the API's held reads once every delivery has returned or waits on one.
func (f *flood) run(t testing.TB, h *callbackHandler, api *floodAPI) floodRun {
	t.Helper()
	bodies := f.bodies()
	base := runtime.NumGoroutine()
	var peak atomic.Int64
	sample := func() {
		n := int64(runtime.NumGoroutine())
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
	}
	stop := make(chan struct{})
	var started, returned atomic.Int32
	go watchFlood(stop, sample, func() bool {
		return api != nil && f.Hold && int(started.Load()) == len(bodies) &&
			int(started.Load()-returned.Load()) == h.reads.waiting()
	}, api)
	var mu sync.Mutex
	run := floodRun{statuses: map[int]int{}}
	post := func(body string) {
		started.Add(1)
		sample()
		rec := httptestRecorder(h, "application/json", body)
		returned.Add(1)
		mu.Lock()
		defer mu.Unlock()
		run.statuses[rec.Code]++
		if rec.Code == http.StatusServiceUnavailable && !positiveSeconds(rec.Header().Get("Retry-After")) {
			run.noRetry++
		}
	}
	var wg sync.WaitGroup
	for _, body := range bodies {
		if !f.Concurrent {
			post(body)
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); post(body) }()
	}
	wg.Wait()
	close(stop)
	run.goroutines = int(peak.Load()) - base
	run.retained = h.seen.retained()
	return run
}

// watchFlood samples the goroutines until stop, and releases api's held
// reads once ready says so, or after five seconds: a handler that never
// gets there fails the flood's counts instead of hanging the test.
func watchFlood(stop chan struct{}, sample func(), ready func() bool, api *floodAPI) {
	deadline := time.Now().Add(5 * time.Second)
	released := api == nil
	if !released {
		select {
		case <-api.hold:
			released = true // the API holds nothing
		default:
		}
	}
	for {
		select {
		case <-stop:
			if !released {
				close(api.hold)
			}
			return
		case <-time.After(200 * time.Microsecond):
		}
		sample()
		if !released && (ready() || time.Now().After(deadline)) {
			close(api.hold)
			released = true
		}
	}
}

func positiveSeconds(v string) bool {
	n, err := strconv.Atoi(v)
	return err == nil && n >= 1
}

// waiting counts, for the tests, the deliveries waiting on a read: the
// first of each flight and those that joined it.
func (rr *rereads) waiting() int {
	if rr == nil {
		return 0
	}
	rr.mu.Lock()
	defer rr.mu.Unlock()
	n := 0
	for _, f := range rr.flights {
		n += 1 + f.joined
	}
	return n
}

// floodHandler builds the handler a flood is posted to, and its API.
func (f *flood) handler(t testing.TB, fn CallbackFunc) (*callbackHandler, *floodAPI) {
	t.Helper()
	opts := []CallbackOption{WithCallbackSecret(testSecret), WithCallbackMaxBody(2 << 20)}
	var api *floodAPI
	if f.Client {
		delay, err := time.ParseDuration(cmpOr(f.APIDelay, "0s"))
		require.NoError(t, err)
		api = newFloodAPI(t, f.APIStatus, delay, f.Hold)
		opts = append(opts, WithCallbackClient(newTestClient(t, api.URL)))
		if f.Limit > 0 {
			opts = append(opts, WithCallbackRereadLimit(f.Limit))
		}
	}
	h, err := CallbackHandler(fn, opts...)
	require.NoError(t, err)
	return h.(*callbackHandler), api
}

func cmpOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// TestCallbackFloods posts every flood of testdata/hostile/callbacks/floods
// and checks what it cost: reads back, reads in flight, goroutines, calls
// of fn, memory, and a Retry-After on every 503.
func TestCallbackFloods(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "hostile", "callbacks", "floods", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".json"), func(t *testing.T) {
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			var f flood
			require.NoError(t, json.Unmarshal(raw, &f))
			require.NotZero(t, f.Deliveries, f.About)
			var calls atomic.Int32
			h, api := f.handler(t, func(context.Context, *CallbackEvent) error { calls.Add(1); return nil })
			run := f.run(t, h, api)
			t.Logf("%s: statuses %v, fn %d, goroutines +%d, retained %d B", f.About, run.statuses, calls.Load(), run.goroutines, run.retained)
			f.check(t, run, calls.Load(), api)
		})
	}
}

func (f *flood) check(t *testing.T, run floodRun, calls int32, api *floodAPI) {
	w := f.Want
	reads, inFlight := 0, 0
	if api != nil {
		reads, inFlight = int(api.hits.Load()), int(api.peak.Load())
	}
	if w.Reads != nil {
		assert.Equal(t, *w.Reads, reads, "reads back")
	}
	if w.ReadsMax > 0 {
		assert.LessOrEqual(t, reads, w.ReadsMax, "reads back")
	}
	if w.InFlight > 0 {
		assert.LessOrEqual(t, inFlight, w.InFlight, "reads in flight at once")
	}
	assert.EqualValues(t, w.Fn, calls, "calls of fn")
	for status, n := range run.statuses {
		want, ok := w.Statuses[strconv.Itoa(status)]
		assert.True(t, ok, "unexpected status %d (%d times)", status, n)
		if ok && want >= 0 {
			assert.Equal(t, want, n, "answers %d", status)
		}
	}
	assert.Zero(t, run.noRetry, "503s without Retry-After")
	if w.Goroutines > 0 {
		assert.LessOrEqual(t, run.goroutines, w.Goroutines, "peak goroutines over the baseline")
	}
	if w.Retained > 0 {
		assert.LessOrEqual(t, run.retained, w.Retained, "bytes the memory of events keeps")
	}
}

package visengine

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// This file uses only what the handler's public API and the test helpers
// offer, so that the same benchmarks run against an older handler for a
// baseline.

// floodAPI answers GET /richiesta/{id} with the richiesta in "Dati
// disponibili" (or with status), counting the reads and those in flight.
type floodAPI struct {
	*countingServer
	status, inFlight, peak atomic.Int32
	delay                  time.Duration
	hold                   chan struct{} // closed to let held reads answer
}

func newFloodAPI(t testing.TB, status int, delay time.Duration, hold bool) *floodAPI {
	api := &floodAPI{delay: delay, hold: make(chan struct{})}
	api.status.Store(int32(status))
	if !hold {
		close(api.hold)
	}
	api.countingServer = newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
		n := api.inFlight.Add(1)
		defer api.inFlight.Add(-1)
		for p := api.peak.Load(); n > p && !api.peak.CompareAndSwap(p, n); p = api.peak.Load() {
		}
		<-api.hold
		time.Sleep(api.delay)
		if code := int(api.status.Load()); code != 0 {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, code, `{"data":null,"success":false,"message":"slow down","error":0}`)
			return
		}
		id := strings.TrimPrefix(r.URL.Path, "/richiesta/")
		writeJSON(w, 200, fmt.Sprintf(`{"data":{"_id":%q,"state":1,"stato_richiesta":%q,"allegati":[],
			"callback_data":{"url":"https://hooks.example.com/v","method":"JSON","data":{%q:%q}}},"success":true,"message":"","error":null}`,
			id, StatoDatiDisponibili, CallbackSecretKey, testSecret))
	})
	return api
}

// floodBench posts deliveries to h and measures what they cost: reads the
// API saw per delivery, peak goroutines over the baseline, and the peak
// reads in flight.
type floodBench struct {
	api        *floodAPI
	deliveries atomic.Int64
	base       int
	peak       atomic.Int64
}

func (fb *floodBench) sample() {
	n := int64(runtime.NumGoroutine() - fb.base)
	for p := fb.peak.Load(); n > p && !fb.peak.CompareAndSwap(p, n); p = fb.peak.Load() {
	}
}

func (fb *floodBench) post(h http.Handler, body string) int {
	fb.deliveries.Add(1)
	fb.sample()
	return httptestRecorder(h, "application/json", body).Code
}

func (fb *floodBench) report(b *testing.B) {
	if fb.api != nil {
		b.ReportMetric(float64(fb.api.hits.Load())/float64(fb.deliveries.Load()), "reads/delivery")
		b.ReportMetric(float64(fb.api.peak.Load()), "peak-reads-in-flight")
	}
	b.ReportMetric(float64(fb.peak.Load()), "peak-goroutines")
}

func newFloodBench(b *testing.B, status int, delay time.Duration) (*floodBench, *Client) {
	fb := &floodBench{api: newFloodAPI(b, status, delay, false)}
	// Four attempts, as a default client makes, with short waits.
	c := newTestClient(b, fb.api.URL, WithRetry(4, time.Millisecond, 5*time.Millisecond))
	fb.base = runtime.NumGoroutine()
	return fb, c
}

func nopCallback(context.Context, *CallbackEvent) error { return nil }

// BenchmarkCallbackFlood posts hostile floods to a CallbackHandler (see
// testdata/hostile/callbacks/floods):
//
//   - replays: one event, delivered b.N times from parallel goroutines;
//   - api-429: b.N deliveries of one event while the API answers 429;
//   - concurrent-300: per op, 300 deliveries of distinct richieste at
//     once, the API taking 2ms per read;
//   - big-stato-400: per op, 400 events whose posted stato is 512 KiB,
//     without a client; retained-B is the heap still in use after they
//     were handled (after a GC), while the handler is alive.
func BenchmarkCallbackFlood(b *testing.B) {
	b.Run("replays", func(b *testing.B) {
		fb, c := newFloodBench(b, 0, 0)
		h := mustHandler(b, nopCallback, WithCallbackSecret(testSecret), WithCallbackClient(c))
		body := deliveryOf(cbID, StatoDatiDisponibili, testSecret)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				fb.post(h, body)
			}
		})
		fb.report(b)
	})
	b.Run("api-429", func(b *testing.B) {
		fb, c := newFloodBench(b, http.StatusTooManyRequests, 0)
		h := mustHandler(b, nopCallback, WithCallbackSecret(testSecret), WithCallbackClient(c))
		body := deliveryOf(cbID, StatoDatiDisponibili, testSecret)
		for b.Loop() {
			fb.post(h, body)
		}
		fb.report(b)
	})
	b.Run("concurrent-300", func(b *testing.B) {
		fb, c := newFloodBench(b, 0, 2*time.Millisecond)
		h := mustHandler(b, nopCallback, WithCallbackSecret(testSecret), WithCallbackClient(c))
		n := 0
		for b.Loop() {
			var wg sync.WaitGroup
			for range 300 {
				body := deliveryOf(fmt.Sprintf("%024d", n), StatoDatiDisponibili, testSecret)
				n++
				wg.Add(1)
				go func() { defer wg.Done(); fb.post(h, body) }()
			}
			wg.Wait()
		}
		fb.report(b)
	})
	b.Run("big-stato-400", benchBigStato)
}

func benchBigStato(b *testing.B) {
	const events, statoBytes = 400, 512 << 10
	stato := string(StatoDatiDisponibili) + strings.Repeat("x", statoBytes)
	template := strings.Replace(deliveryOf("ID0000000000000000000000", "STATO", testSecret), `"STATO"`, `"`+stato+`"`, 1)
	var retained uint64
	fb := &floodBench{base: runtime.NumGoroutine()}
	for b.Loop() {
		h := mustHandler(b, nopCallback, WithCallbackSecret(testSecret), WithCallbackMaxBody(1<<20))
		var before, after runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range events {
			fb.post(h, strings.Replace(template, "ID0000000000000000000000", fmt.Sprintf("%024d", i), 1))
		}
		runtime.GC()
		runtime.GC() // and the pools' victim caches
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(h)
		retained += max(after.HeapAlloc, before.HeapAlloc) - before.HeapAlloc
	}
	b.ReportMetric(float64(retained)/float64(b.N), "retained-B")
	fb.report(b)
}

package visengine_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/journal"
	"github.com/visengine-go/visengine/visenginetest"
)

// batchResult is what one applicant of a batch came to.
type batchResult struct {
	key      string
	richiest string // the richiesta's id, when paid
	replayed bool   // paid by an earlier run, not this one
	err      error
}

// submitKeyedBatch submits each applicant under its own idempotency key (its
// file or form id), at most inFlight at once. Run again after a crash, a
// failure or a double click, it pays nothing twice: a key paid already
// replays its richiesta, one whose close is in doubt is finished, not
// submitted again.
func submitKeyedBatch(ctx context.Context, c *visengine.Client, v *visengine.Visura, applicants map[string]visengine.Values, inFlight int) []batchResult {
	results := make(chan batchResult, len(applicants))
	sem := make(chan struct{}, inFlight)
	var wg sync.WaitGroup
	for key, values := range applicants {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			var info visengine.SubmitInfo
			r, err := c.Submit(ctx, v, values, visengine.WithIdempotencyKey(key), visengine.WithSubmitInfo(&info))
			res := batchResult{key: key, replayed: info.Replayed, err: err}
			if err == nil {
				res.richiest = r.ID
			}
			results <- res
		}()
	}
	wg.Wait()
	close(results)
	var out []batchResult
	for r := range results {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

// tally counts a batch's results: paid now, paid by an earlier run, in
// doubt (never submit those again: Recover or the next run finishes them)
// and failed.
func tally(results []batchResult) string {
	var now, before, doubt, failed int
	for _, r := range results {
		switch {
		case r.err == nil && r.replayed:
			before++
		case r.err == nil:
			now++
		case errors.Is(r.err, visengine.ErrOutcomeUnknown):
			doubt++
		default:
			failed++
		}
	}
	return fmt.Sprintf("paid now %d, paid before %d, in doubt %d, failed %d", now, before, doubt, failed)
}

// A day's batch of applicants, submitted with bounded concurrency, each
// under an idempotency key, with a directory journal. The first run dies
// half way, with one close lost on the way; the next process runs Recover,
// then the whole batch again: every applicant is paid exactly once.
func ExampleWithIdempotencyKey() {
	srv := visenginetest.NewServer()
	defer srv.Close()
	dir, err := os.MkdirTemp("", "journal")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	applicants := map[string]visengine.Values{}
	for i := range 6 {
		applicants[fmt.Sprintf("pratica-%02d", i)] = visengine.Values{"$0": fmt.Sprint(1378000 + i), "$1": "RM"}
	}
	ctx := context.Background()
	keys := sortedKeys(applicants)

	// process runs the batch of keys as one process would: open the
	// journal, Recover what an earlier one left (at start-up, before the
	// batch), submit. A short settle time for the example; the default is
	// two minutes.
	process := func(keys []string) string {
		j, err := journal.OpenDir(dir)
		if err != nil {
			log.Fatal(err)
		}
		defer j.Close()
		c := srv.Client(visengine.WithJournal(j), visengine.WithCloseSettle(50*time.Millisecond))
		rep, err := c.Recover(ctx, j)
		if err != nil {
			log.Fatal(err)
		}
		v, err := c.GetVisura(ctx, ordinaria)
		if err != nil {
			log.Fatal(err)
		}
		results := submitKeyedBatch(ctx, c, v, pick(applicants, keys), 3)
		return fmt.Sprintf("recovered %d; %s", rep.Count(visengine.ResolutionResumed), tally(results))
	}

	// The first process: one close is lost before the backend, and the
	// process dies before its sixth applicant.
	srv.Fault(http.MethodPut, "/richiesta/{id}", visenginetest.Fault{Status: http.StatusGatewayTimeout})
	fmt.Println("first run:", process(keys[:5]))
	time.Sleep(60 * time.Millisecond) // past the lost close's settle time

	// The next process runs the whole batch again.
	fmt.Println("second run:", process(keys))
	count, _ := srv.Charges()
	fmt.Println("charges:", count)
	// Output:
	// first run: recovered 0; paid now 4, paid before 0, in doubt 1, failed 0
	// second run: recovered 1; paid now 1, paid before 5, in doubt 0, failed 0
	// charges: 6
}

func pick(all map[string]visengine.Values, keys []string) map[string]visengine.Values {
	out := map[string]visengine.Values{}
	for _, k := range keys {
		out[k] = all[k]
	}
	return out
}

func sortedKeys(m map[string]visengine.Values) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

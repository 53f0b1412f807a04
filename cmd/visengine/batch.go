package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/visengine-go/visengine"
)

// defaultConcurrency is how many applicants a batch submits at once by
// default: enough to hide a round trip's latency, few enough to stay well
// under the API's rate limits.
const defaultConcurrency = 4

// maxConcurrency bounds --concurrency: more would only meet 429s.
const maxConcurrency = 64

// The outcome of one applicant of a batch, as --results and --json write it.
const (
	outcomePaid        = "paid"         // charged by this run
	outcomeAlreadyPaid = "already_paid" // charged by an earlier run: nothing charged now
	outcomeInvalid     = "invalid"      // not submitted: unreadable, invalid, or a bad key
	outcomeKeyReused   = "key_reused"   // not submitted: its key was paid with other values
	outcomeRefused     = "refused"      // the server refused it: nothing charged
	outcomeFailed      = "failed"       // not submitted or not finished, nothing charged
	outcomeUnknown     = "unknown"      // may have been charged: do not submit it elsewhere
	outcomeSkipped     = "skipped"      // not started: the batch was interrupted
)

// batchResult is one applicant's line of --results and --json: no field
// values, only the key (its file's name), ids, the price and problem codes.
type batchResult struct {
	Key      string                  `json:"key"`
	ID       string                  `json:"id,omitempty"`
	Outcome  string                  `json:"outcome"`
	Price    *visengine.Price        `json:"price,omitempty"`
	Problems []visengine.ProblemCode `json:"problems,omitempty"`
	Error    string                  `json:"error,omitempty"`

	problems []visengine.Problem // for the terminal's table
	why      error               // Error's cause, for the terminal in the user's language
}

// explain sets the result's error: Error in English for the results file,
// why for the terminal.
func (r *batchResult) explain(why error) {
	r.why, r.Error = why, oneLine(why)
}

// message is the result's error in lang.
func (r *batchResult) message(lang visengine.Lang) string {
	if r.why == nil {
		return r.Error
	}
	return oneLineIn(r.why, lang)
}

// batchItem is one applicant file and its idempotency key.
type batchItem struct{ key, path string }

// listBatch returns dir's *.json files in name order, each keyed by its
// name without ".json".
func listBatch(dir string) ([]batchItem, error) {
	st, err := os.Stat(dir)
	switch {
	case err != nil:
		return nil, fmt.Errorf("--batch: %w", err)
	case !st.IsDir():
		return nil, msgErr("batchNotFolder", dir)
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("--batch: %w", err)
	}
	if len(paths) == 0 {
		return nil, msgErr("batchEmpty", dir)
	}
	slices.Sort(paths)
	items := make([]batchItem, len(paths))
	for i, p := range paths {
		items[i] = batchItem{key: strings.TrimSuffix(filepath.Base(p), ".json"), path: p}
	}
	return items, nil
}

// keyProblem says why a file name cannot be an idempotency key (1 to 255
// printable ASCII characters), or nil when it can. The SDK checks again.
func keyProblem(key string) error {
	if key == "" || len(key) > 255 {
		return msgErr("keyLength")
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < ' ' || c > '~' {
			return msgErr("keyASCII")
		}
	}
	return nil
}

// sentKey marks a Submit's context with the counter of paid-path requests
// (POST and PUT) it sent, so that a batch can tell a submission made now
// from one an idempotency key answered from an earlier run.
type sentKey struct{}

// countingTransport counts, for each Submit, the POSTs and PUTs it sent.
type countingTransport struct{ next http.RoundTripper }

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if n, ok := r.Context().Value(sentKey{}).(*atomic.Int32); ok && (r.Method == http.MethodPost || r.Method == http.MethodPut) {
		n.Add(1)
	}
	return t.next.RoundTrip(r)
}

// countingClient is an HTTP client like the SDK's own (a pool sized for
// concurrency, no overall timeout) that counts through countingTransport.
func countingClient(concurrency int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 2*concurrency, 2*concurrency
	return &http.Client{Transport: countingTransport{next: tr}}
}

// batch is one run of submit --batch.
type batch struct {
	c     *visengine.Client
	j     visengine.Journal // the Client's, where each key's submission is recorded
	v     *visengine.Visura
	opts  []visengine.SubmitOption
	total visengine.Price // each applicant's price, options included
	lang  visengine.Lang  // of the problems' messages
}

// submitOne submits the applicant in it under its key; it never fails,
// the outcome says what happened.
func (b *batch) submitOne(ctx context.Context, it batchItem) batchResult {
	values, res := b.load(it)
	if res.Outcome != "" {
		return res
	}
	var (
		sent atomic.Int32
		info visengine.SubmitInfo
	)
	r, err := b.c.Submit(context.WithValue(ctx, sentKey{}, &sent), b.v, values,
		append(slices.Clip(b.opts), visengine.WithIdempotencyKey(it.key), visengine.WithSubmitInfo(&info))...)
	// Replayed: the key's earlier submission answered. No POST and no PUT
	// sent: also when its draft, closed by an earlier run whose answer was
	// lost, was only read back now.
	already := info.Replayed || sent.Load() == 0
	if err != nil {
		var why error
		res.Outcome, res.ID, why = classify(err)
		res.explain(why)
		b.fromJournal(ctx, &res, err, info.Ref, already)
		return res
	}
	res.Outcome, res.ID = outcomePaid, r.ID
	if already {
		res.Outcome = outcomeAlreadyPaid
	}
	price := b.total
	if t, err := r.Total(); err == nil {
		price = t
	}
	res.Price = &price
	return res
}

// load reads and checks the applicant in it; the result has an Outcome
// when the applicant cannot be submitted.
func (b *batch) load(it batchItem) (visengine.Values, batchResult) {
	res := batchResult{Key: it.key}
	if why := keyProblem(it.key); why != nil {
		res.Outcome = outcomeInvalid
		res.explain(why)
		return nil, res
	}
	var problems []visengine.Problem
	values, err := readApplicant(it.path, b.v)
	if err == nil {
		problems, err = check(b.v, values, b.lang)
	}
	if err != nil {
		res.Outcome = outcomeInvalid
		res.explain(err)
		return nil, res
	}
	if len(problems) > 0 {
		res.Outcome, res.problems = outcomeInvalid, problems
		for _, p := range problems {
			res.Problems = append(res.Problems, p.Code)
		}
		res.explain(msgErr("problemCount", len(problems)))
	}
	return values, res
}

// fromJournal corrects the outcome of a failed Submit by what the journal
// records under the key's Ref: the error alone does not say that a
// richiesta paid earlier could not be read back (it is paid), nor always
// that a failed read-back leaves a close in doubt (it is unknown, never
// "nothing charged").
func (b *batch) fromJournal(ctx context.Context, res *batchResult, cause error, ref string, already bool) {
	if ref == "" || b.j == nil {
		return
	}
	e, err := b.j.Get(ctx, ref)
	switch {
	case err != nil:
		return
	case e.Outcome == visengine.JournalCompleted && e.DraftID != "":
		res.Outcome, res.ID = outcomePaid, e.DraftID
		if already {
			res.Outcome = outcomeAlreadyPaid
		}
		price := b.total
		res.Price = &price
		res.explain(msgErr("paidByJournal", cause))
	case e.Outcome == visengine.JournalUnfinished && !e.CloseSentAt.IsZero() && res.Outcome != outcomeUnknown:
		res.Outcome, res.ID = outcomeUnknown, e.DraftID
		res.explain(msgErr("unknownByJournal", cause, e.DraftID))
	}
}

// classify names the outcome of a failed Submit, the draft it left (if
// any) and what to do, on one line without personal data.
func classify(err error) (outcome, id string, msg error) {
	var (
		se  *visengine.SubmitError
		api *visengine.APIError
	)
	msg = submitFailure(err, true)
	switch {
	case errors.Is(err, visengine.ErrIdempotencyKeyReused):
		return outcomeKeyReused, "", msgErr("keyReused")
	case !errors.As(err, &se):
		// Nothing was sent by this call: a local check refused it, or the
		// context ended, or an earlier submission under the key could not
		// be read back (fromJournal then tells it paid).
		if errors.Is(err, visengine.ErrInvalidArgument) {
			return outcomeInvalid, "", msg
		}
		return outcomeFailed, "", msg
	case errors.Is(err, visengine.ErrOutcomeUnknown) && se.Step == visengine.StepClose:
		return outcomeUnknown, se.ID, msg
	case errors.As(err, &api):
		return outcomeRefused, se.ID, msg
	}
	return outcomeFailed, se.ID, msg
}

// interruptGrace is how long the applicants in flight when a batch is
// interrupted (Ctrl-C) may take to finish: cut short, a paid close would
// leave an unknown outcome where waiting a moment leaves a paid one.
const interruptGrace = 30 * time.Second

// run submits items with at most n at once and hands each result to
// report as it comes, in the calling goroutine. When ctx ends, the items
// not started are reported skipped; those in flight get interruptGrace to
// finish before their context ends too.
func (b *batch) run(ctx context.Context, items []batchItem, n int, rep *batchReport) {
	work, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	jobs := make(chan batchItem)
	results := make(chan batchResult)
	var wg sync.WaitGroup
	for range min(n, len(items)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range jobs {
				results <- b.submitOne(work, it)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(jobs)
		feed(ctx, items, jobs, results)
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	for interrupted := ctx.Done(); ; {
		select {
		case r, ok := <-results:
			if !ok {
				return
			}
			rep.add(r)
		case <-interrupted:
			interrupted = nil
			rep.interrupted()
			time.AfterFunc(interruptGrace, cancel)
		}
	}
}

// feed hands items to jobs until ctx ends, then reports the rest skipped.
func feed(ctx context.Context, items []batchItem, jobs chan<- batchItem, results chan<- batchResult) {
	for i, it := range items {
		if ctx.Err() == nil {
			select {
			case jobs <- it:
				continue
			case <-ctx.Done():
			}
		}
		for _, rest := range items[i:] {
			res := batchResult{Key: rest.key, Outcome: outcomeSkipped}
			res.explain(msgErr("skippedInterrupted"))
			results <- res
		}
		return
	}
}

// resultsFile writes one JSON line per applicant, each in one write, so
// that a batch killed half-way leaves only whole lines.
type resultsFile struct{ f *os.File }

// openResults creates (or empties) path; "" writes nothing.
func openResults(path string) (*resultsFile, error) {
	if path == "" {
		return &resultsFile{}, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("--results: %w", err)
	}
	return &resultsFile{f: f}, nil
}

func (r *resultsFile) write(res batchResult) error {
	if r.f == nil {
		return nil
	}
	line, err := json.Marshal(res)
	if err != nil {
		return err
	}
	if _, err := r.f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("--results: %w", err)
	}
	return nil
}

// Close syncs and closes the file, so the report survives a power cut;
// calls after the first do nothing.
func (r *resultsFile) Close() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Sync()
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	r.f = nil
	return err
}

// writeJSONLine writes res as one compact JSON line on w.
func writeJSONLine(w io.Writer, res batchResult) error {
	line, err := json.Marshal(res)
	if err != nil {
		return err
	}
	_, err = w.Write(append(line, '\n'))
	return err
}

// batchHelp is submit's help for --batch.
const batchHelp = `
  visengine submit HASH --batch DIR --yes [--concurrency N] [--results FILE]

submits every applicant in DIR/*.json, in name order, at most --concurrency at
once (default 4), paying each applicant once: a file's name without .json is
its idempotency key (1 to 255 printable ASCII characters). Name files by a
practice number, not by a person: keys are printed and written to --results
(the journal keeps only a keyed hash of them). Running the same batch again,
after a crash, a kill or a fix, pays nothing twice: applicants already paid
are reported "already paid". An invalid applicant is reported and skipped;
the others go on. If an applicant's file changes after it was paid, its key is
refused (key_reused) and nothing is sent. A batch needs --yes and the journal
(no --dry-run, no --no-journal); the options, the e-mail and the callback
apply to every applicant. --rate paces the requests to stay under the
account's rate limit; a 429 (too many requests) is waited out, as the
server's Retry-After asks, and the step sent again. Ctrl-C starts no more
applicants and lets those in flight finish.

Standard output gets "KEY<TAB>ID" for each applicant paid, now or earlier
(--json: one JSON object per line for every applicant); standard error what
happened to each, a progress bar when it is a terminal, and a summary.
--results FILE writes one JSON line per applicant as it finishes: key, id,
outcome (paid, already_paid, invalid, key_reused, refused, failed, unknown,
skipped), price, problem codes and error; a run killed half-way leaves whole
lines only.

Exit status of a batch: 0 every applicant is paid (now or earlier); 1 some
were invalid, refused or failed (nothing charged for them: fix and run the
batch again); 3 some outcomes are unknown (they may have been charged:
'visengine recover', then run the batch again); 2 usage or another error.`

// submitArgs is submit's argument check: HASH and APPLICANT.json, or HASH
// alone with --batch.
func submitArgs(f *submitFlags) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if f.batch != "" {
			return exactArgs(1, "argsHashBatch")(cmd, args)
		}
		return exactArgs(2, "argsHashApplicant")(cmd, args)
	}
}

// isApplicantPath reports whether path would be one of dir's applicants.
func isApplicantPath(dir, path string) bool {
	d, err1 := filepath.Abs(dir)
	p, err2 := filepath.Abs(path)
	return err1 == nil && err2 == nil && filepath.Dir(p) == d && filepath.Ext(p) == ".json"
}

// checkBatchFlags refuses what a batch cannot do.
func checkBatchFlags(cmd *cobra.Command, f submitFlags) error {
	var why error
	switch {
	case f.dryRun:
		why = msgErr("batchDryRun")
	case f.noJournal:
		why = msgErr("batchNoJournal")
	case !f.yes:
		why = msgErr("batchNoYes")
	case f.concurrency < 1 || f.concurrency > maxConcurrency:
		why = msgErr("batchConcurrency", maxConcurrency)
	case f.rate < 0 || math.IsNaN(f.rate) || math.IsInf(f.rate, 0):
		why = msgErr("batchRate")
	case f.results != "" && isApplicantPath(f.batch, f.results):
		why = msgErr("batchResultsInside")
	}
	if why != nil {
		return &usageError{cmd: cmd.CommandPath(), err: why}
	}
	return nil
}

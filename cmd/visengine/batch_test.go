package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/visenginetest"
)

func TestRenderBar(t *testing.T) {
	for _, c := range []struct {
		done, total int
		want        string
	}{
		{0, 40, "[" + strings.Repeat("-", 30) + "] 0/40"},
		{12, 40, "[" + strings.Repeat("#", 9) + strings.Repeat("-", 21) + "] 12/40"},
		{40, 40, "[" + strings.Repeat("#", 30) + "] 40/40"},
		{0, 0, "[" + strings.Repeat("-", 30) + "] 0/0"},
	} {
		assert.Equal(t, c.want, renderBar(c.done, c.total), "%d/%d", c.done, c.total)
	}
}

func TestKeyProblem(t *testing.T) {
	for key, ok := range map[string]bool{
		"p001": true, "CAF 2026-03 #17": true, strings.Repeat("k", 255): true,
		"": false, strings.Repeat("k", 256): false, "Niccolò": false, "a\x1b[31m": false, "a\tb": false,
	} {
		assert.Equal(t, ok, keyProblem(key) == nil, "%q", key)
		// Whatever the CLI accepts, the SDK accepts too.
		if ok {
			assert.NotPanics(t, func() { visengine.WithIdempotencyKey(key) })
		}
	}
}

func TestListBatch(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"b.json", "a.json", "notes.txt", "c.JSON"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("{}"), 0o600))
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sub", "d.json"), []byte("{}"), 0o600))
	items, err := listBatch(dir)
	require.NoError(t, err)
	assert.Equal(t, []batchItem{{"a", filepath.Join(dir, "a.json")}, {"b", filepath.Join(dir, "b.json")}}, items)

	_, err = listBatch(filepath.Join(dir, "sub", "d.json"))
	assert.ErrorContains(t, err, "is not a folder")
	_, err = listBatch(t.TempDir())
	assert.ErrorContains(t, err, "holds no applicant")
	_, err = listBatch(filepath.Join(dir, "nowhere"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestClassify(t *testing.T) {
	unknown := &visengine.OutcomeUnknownError{Method: "PUT", Path: "/richiesta/abc", SentAt: time.Now(), Err: errors.New("EOF")}
	credit := &visengine.APIError{Method: "PUT", Path: "/richiesta/abc", StatusCode: 402, Message: "insufficient credit"}
	for _, c := range []struct {
		err         error
		outcome, id string
	}{
		{fmt.Errorf("wrapped: %w", visengine.ErrIdempotencyKeyReused), outcomeKeyReused, ""},
		{fmt.Errorf("%w: idempotency key is not 1 to 255 characters", visengine.ErrInvalidArgument), outcomeInvalid, ""},
		{context.Canceled, outcomeFailed, ""},
		{&visengine.SubmitError{Step: visengine.StepClose, ID: "abc", CloseSentAt: time.Now(), Err: unknown}, outcomeUnknown, "abc"},
		{&visengine.SubmitError{Step: visengine.StepDraft, Err: unknown}, outcomeFailed, ""},
		{&visengine.SubmitError{Step: visengine.StepClose, ID: "abc", Err: credit}, outcomeRefused, "abc"},
		{&visengine.SubmitError{Step: visengine.StepDraft, Err: credit}, outcomeRefused, ""},
		{&visengine.SubmitError{Step: visengine.StepClose, ID: "abc", Err: context.Canceled}, outcomeFailed, "abc"},
	} {
		outcome, id, why := classify(c.err)
		msg := oneLine(why)
		assert.Equal(t, c.outcome, outcome, "%v", c.err)
		assert.Equal(t, c.id, id, "%v", c.err)
		assert.NotEmpty(t, msg)
		assert.NotContains(t, msg, "visengine: visengine:")
	}
	_, _, why := classify(&visengine.SubmitError{Step: visengine.StepClose, ID: "abc", CloseSentAt: time.Now(), Err: unknown})
	assert.Contains(t, oneLine(why), "do NOT submit again")
	assert.Contains(t, oneLineIn(why, visengine.Italian), "NON inviarla di nuovo")
}

func TestCountingTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	hc := countingClient(2)
	var n atomic.Int32
	ctx := context.WithValue(context.Background(), sentKey{}, &n)
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodGet} {
		req, err := http.NewRequestWithContext(ctx, m, srv.URL, nil)
		require.NoError(t, err)
		resp, err := hc.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	assert.EqualValues(t, 2, n.Load(), "a POST and a PUT")
	resp, err := hc.Post(srv.URL, "text/plain", nil) // no counter in the context: counted nowhere
	require.NoError(t, err)
	resp.Body.Close()
	assert.EqualValues(t, 2, n.Load())
}

// TestResultsFile checks that each result is one whole JSON line, written
// at once (nothing is buffered: a kill leaves whole lines), in a file only
// the user can read.
func TestResultsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "res.jsonl")
	require.NoError(t, os.WriteFile(path, []byte("an older run's lines\n"), 0o600))
	rf, err := openResults(path)
	require.NoError(t, err)
	price := visengine.Cents(2000)
	require.NoError(t, rf.write(batchResult{Key: "p001", ID: "abc", Outcome: outcomePaid, Price: &price}))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, `{"key":"p001","id":"abc","outcome":"paid","price":20.00}`+"\n", string(b), "written before Close")
	require.NoError(t, rf.write(batchResult{Key: "p002", Outcome: outcomeInvalid, Error: "2 problem(s)",
		Problems: []visengine.ProblemCode{visengine.ProblemCodeMissing, visengine.ProblemCodeCheckChar},
		problems: []visengine.Problem{{Key: "$3", Code: visengine.ProblemCodeMissing}}}))
	require.NoError(t, rf.Close())
	require.NoError(t, rf.Close(), "a second Close does nothing")
	b, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, `{"key":"p001","id":"abc","outcome":"paid","price":20.00}`+"\n"+
		`{"key":"p002","outcome":"invalid","problems":["missing","check_char"],"error":"2 problem(s)"}`+"\n", string(b))
	if runtime.GOOS != "windows" {
		fresh := filepath.Join(t.TempDir(), "new.jsonl")
		rf, err := openResults(fresh)
		require.NoError(t, err)
		require.NoError(t, rf.Close())
		st, err := os.Stat(fresh)
		require.NoError(t, err)
		assert.Zero(t, st.Mode().Perm()&0o077, "keys and ids are the user's alone")
	}
	none, err := openResults("")
	require.NoError(t, err)
	require.NoError(t, none.write(batchResult{Key: "x"}))
	require.NoError(t, none.Close())
}

// TestBatchReportBar checks the progress bar a terminal gets: each message
// erases the bar's line and the bar is drawn again below it.
func TestBatchReportBar(t *testing.T) {
	var out, errOut bytes.Buffer
	rf, err := openResults("")
	require.NoError(t, err)
	rep := &batchReport{a: &app{out: &out, errOut: &errOut}, results: rf, bar: true, total: 2, counts: map[string]int{}}
	rep.drawBar()
	price := visengine.Cents(2000)
	rep.add(batchResult{Key: "p001", ID: "abc", Outcome: outcomeAlreadyPaid, Price: &price})
	rep.add(batchResult{Key: "p002", ID: "def", Outcome: outcomePaid, Price: &price})
	rep.summary()
	want := renderBar(0, 2) + " 0 paid, 0 already paid" +
		"\r\x1b[Kp001: already paid: richiesta abc; nothing charged now\n" + renderBar(1, 2) + " 0 paid, 1 already paid" +
		"\r\x1b[Kp002: paid: richiesta def, €20.00\n" +
		"batch of 2: 1 paid now (€20.00), 1 already paid\n"
	assert.Equal(t, want, errOut.String())
	assert.Equal(t, "p001\tabc\np002\tdef\n", out.String())
	assert.NoError(t, rep.exit(context.Background()))

	errOut.Reset()
	rep = &batchReport{a: &app{out: &out, errOut: &errOut}, results: rf, total: 1, counts: map[string]int{}}
	rep.add(batchResult{Key: "p\x1b[2J", Outcome: outcomeInvalid, Error: "1 problem(s)"})
	assert.NotContains(t, errOut.String(), "\x1b", "a file name is cleaned before a terminal")
	assert.NotContains(t, errOut.String(), "\r", "no bar on a pipe")
}

func TestBatchReportExit(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		counts map[string]int
		ctx    context.Context
		want   int
	}{
		{map[string]int{outcomePaid: 2, outcomeAlreadyPaid: 1}, context.Background(), exitOK},
		{map[string]int{outcomePaid: 2, outcomeInvalid: 1}, context.Background(), exitNo},
		{map[string]int{outcomePaid: 2, outcomeRefused: 1}, context.Background(), exitNo},
		{map[string]int{outcomeKeyReused: 1}, context.Background(), exitNo},
		{map[string]int{outcomeFailed: 1}, context.Background(), exitNo},
		{map[string]int{outcomeInvalid: 1, outcomeUnknown: 1}, context.Background(), exitUnknown},
		{map[string]int{outcomePaid: 1, outcomeSkipped: 2}, cancelled, exitNo},
	} {
		done := 0
		for _, n := range c.counts {
			done += n
		}
		rep := &batchReport{total: done, done: done, counts: c.counts}
		assert.Equal(t, c.want, exitCode(rep.exit(c.ctx)), "%v", c.counts)
	}
}

// TestBatchConcurrent submits a batch of 24 in one process, 6 at once,
// then again: each applicant is paid once, and the second run pays nothing.
func TestBatchConcurrent(t *testing.T) {
	const n = 24
	srv, dir := batchFixture(t, n)
	results := filepath.Join(t.TempDir(), "res.jsonl")
	args := []string{"submit", "2631ec9b62135de4186f509fea7d954b", "--batch", dir, "--yes", "--concurrency", "6", "--results", results}

	var out, errOut bytes.Buffer
	require.NoError(t, run(context.Background(), args, &out, &errOut, strings.NewReader("")), errOut.String())
	count, total := srv.Charges()
	assert.Equal(t, n, count)
	assert.Equal(t, visengine.Cents(n*2000), total)
	first := readResults(t, results)
	assert.Equal(t, outcomesAll(n, outcomePaid), outcomes(first))

	out.Reset()
	errOut.Reset()
	require.NoError(t, run(context.Background(), args, &out, &errOut, strings.NewReader("")), errOut.String())
	count, _ = srv.Charges()
	assert.Equal(t, n, count, "the second run charges nothing")
	second := readResults(t, results)
	assert.Equal(t, outcomesAll(n, outcomeAlreadyPaid), outcomes(second))
	for key, r := range second {
		if r.ID != first[key].ID {
			t.Errorf("%s: richiesta %s, not the first run's %s", key, r.ID, first[key].ID)
		}
	}
	assert.Contains(t, errOut.String(), fmt.Sprintf("batch of %d: 0 paid now (€0.00), %d already paid\n", n, n))

	// Each applicant's richiesta was charged once, and nothing else was.
	charged := map[string]int{}
	for _, c := range srv.ChargeLog() {
		charged[c.RichiestaID]++
	}
	want := map[string]int{}
	for _, r := range first {
		want[r.ID] = 1
	}
	assert.Equal(t, want, charged)
}

// TestBatchInterrupted interrupts a batch (Ctrl-C) while two applicants
// are in flight: they finish and are paid, rather than being cut off with
// an unknown outcome; the others are skipped and reported so.
func TestBatchInterrupted(t *testing.T) {
	srv, dir := batchFixture(t, 6)
	srv.Fault("PUT", "/richiesta/{id}", visenginetest.Fault{Delay: 300 * time.Millisecond, Times: -1})
	results := filepath.Join(t.TempDir(), "res.jsonl")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil && !slices.ContainsFunc(srv.Requests(), func(r visenginetest.Request) bool { return r.Method == "PUT" }) {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	var out, errOut bytes.Buffer
	err := run(ctx, []string{"submit", "2631ec9b62135de4186f509fea7d954b", "--batch", dir, "--yes", "--concurrency", "2", "--results", results},
		&out, &errOut, strings.NewReader(""))
	assert.Equal(t, exitNo, exitCode(err), "%v", err)
	assert.ErrorContains(t, err, "interrupted")
	assert.Contains(t, errOut.String(), "interrupted: finishing the applicants in flight")
	assert.Equal(t, map[string]string{"p000": outcomePaid, "p001": outcomePaid, "p002": outcomeSkipped,
		"p003": outcomeSkipped, "p004": outcomeSkipped, "p005": outcomeSkipped}, outcomes(readResults(t, results)))
	count, _ := srv.Charges()
	assert.Equal(t, 2, count)
}

// TestBatchTooManyRequests answers 429 (Retry-After: 0) to some drafts
// and closes: nothing was applied, so the steps are sent again, and every
// applicant is paid once.
func TestBatchTooManyRequests(t *testing.T) {
	srv, dir := batchFixture(t, 6)
	srv.Fault("POST", "/richiesta", visenginetest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "0", Times: 3})
	srv.Fault("PUT", "/richiesta/{id}", visenginetest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "0", Times: 3})
	results := filepath.Join(t.TempDir(), "res.jsonl")
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"submit", "2631ec9b62135de4186f509fea7d954b", "--batch", dir, "--yes", "--concurrency", "3", "--results", results},
		&out, &errOut, strings.NewReader(""))
	require.NoError(t, err, errOut.String())
	assert.Equal(t, outcomesAll(6, outcomePaid), outcomes(readResults(t, results)))
	count, _ := srv.Charges()
	assert.Equal(t, 6, count)
	posts := 0
	for _, r := range srv.Requests() {
		if r.Method == "POST" && r.Path == "/richiesta" {
			posts++
		}
	}
	assert.Equal(t, 6+3, posts, "each refused draft sent again once")
}

// TestBatchRate checks that --rate paces the batch's requests: with a
// burst of one (--concurrency 1), 10 per second are at least 100 ms apart
// on average. Only a lower bound: a slow machine cannot make it fail.
func TestBatchRate(t *testing.T) {
	srv, dir := batchFixture(t, 3)
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"submit", "2631ec9b62135de4186f509fea7d954b", "--batch", dir, "--yes", "--concurrency", "1", "--rate", "10"},
		&out, &errOut, strings.NewReader(""))
	require.NoError(t, err, errOut.String())
	reqs := srv.Requests()
	require.GreaterOrEqual(t, len(reqs), 7, "the service, then a draft and a close each")
	span := reqs[len(reqs)-1].Time.Sub(reqs[0].Time)
	// The first request takes the burst's token; each later one waits 100 ms
	// for its own, less a little for the network's jitter on arrival.
	assert.GreaterOrEqual(t, span, time.Duration(len(reqs)-1)*90*time.Millisecond, "%d requests", len(reqs))

	err = run(context.Background(), []string{"submit", "2631ec9b62135de4186f509fea7d954b", "--batch", dir, "--yes", "--rate", "-1"},
		&out, &errOut, strings.NewReader(""))
	assert.Equal(t, exitError, exitCode(err))
	assert.ErrorContains(t, err, "--rate must be")
}

// batchFixture starts a fake server for the command and writes a batch of
// n valid applicants, p000…, into a new folder.
func batchFixture(t *testing.T, n int) (*visenginetest.Server, string) {
	t.Helper()
	srv := visenginetest.NewServer(visenginetest.WithToken("batch-test-token"))
	t.Cleanup(srv.Close)
	t.Setenv(envURL, srv.URL)
	t.Setenv(envToken, srv.Token)
	t.Setenv(envJournal, filepath.Join(t.TempDir(), "journal"))
	dir := t.TempDir()
	for i := range n {
		applicant := fmt.Sprintf(`{"Nome": "Nome%d", "Cognome": "Rossi", "Email": "p%d@example.com", "CELLULARE": "333%07d",
			"CODICE FISCALE": "RSSMRA85M01H501Q", "COPIA DOCUMENTO D%sIDENTITÀ FRONTE RETRO": "@doc.pdf",
			"COPIA CODICE FISCALE FRONTE RETRO": "@doc.pdf"}`, i, i, i, "`")
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("p%03d.json", i)), []byte(applicant), 0o600))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "doc.pdf"), []byte("%PDF-1.4 a scan"), 0o600))
	return srv, dir
}

// outcomes maps each key to its outcome.
func outcomes(results map[string]batchResult) map[string]string {
	m := map[string]string{}
	for k, r := range results {
		m[k] = r.Outcome
	}
	return m
}

// outcomesAll maps keys p000… of a batch of n to outcome.
func outcomesAll(n int, outcome string) map[string]string {
	m := map[string]string{}
	for i := range n {
		m[fmt.Sprintf("p%03d", i)] = outcome
	}
	return m
}

// readResults reads a --results file by key.
func readResults(t *testing.T, path string) map[string]batchResult {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	byKey := map[string]batchResult{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r batchResult
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r), sc.Text())
		_, dup := byKey[r.Key]
		require.False(t, dup, "%s twice", r.Key)
		byKey[r.Key] = r
	}
	require.NoError(t, sc.Err())
	return byKey
}

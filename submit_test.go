package visengine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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

// flowServer is a small stateful stand-in for Visengine's richiesta
// endpoints, with one-shot faults on the paid calls. The full fake lives in
// visenginetest; this one keeps these tests about the client alone.
type flowServer struct {
	t    *testing.T
	srv  *countingServer
	mu   sync.Mutex
	rich map[string]*flowRichiesta
	ids  []string
	next int

	creates, closes, charges atomic.Int32
	fetched                  []string // ids read with GET /richiesta/{id}
	// one-shot faults: drop the connection after reading the body, having
	// applied the call (after) or not (before).
	dropCreateAfter, dropCloseAfter, dropCloseBefore atomic.Bool
	// staleReads makes the next GET /richiesta/{id} answers show the
	// richiesta as a draft, as a lagging replica would right after a close.
	staleReads atomic.Int32
	// refuseClose answers the next close with this status, unapplied.
	refuseClose atomic.Int32
	// createClosed makes a create ignore state 0 and close (and charge) at once.
	createClosed atomic.Bool
	// closeAnswer, when set, replaces the data of a close's success answer
	// (the close is applied all the same).
	closeAnswer func(r *flowRichiesta) map[string]any
	// hook sees each request on arrival, before it is served.
	hook func(method, path string, body []byte)
}

type flowRichiesta struct {
	ID       string
	Hash     string
	State    int
	Stato    Stato
	Created  int64
	Values   map[string]string
	Callback json.RawMessage // callback_data as sent; nil: none
}

func (r *flowRichiesta) wire() map[string]any {
	vals, _ := json.Marshal(r.Values)
	var cb any = false
	if r.Callback != nil {
		cb = r.Callback
	}
	return map[string]any{"_id": r.ID, "state": r.State, "hash_visura": r.Hash, "stato_richiesta": r.Stato,
		"prezzo_visura": 20, "timestamp_creation": r.Created, "callback_data": cb, "allegati": []string{},
		"ricerche": []map[string]any{{"id_ricerca": r.ID + "_0", "stato_ricerca": RicercaEvasa, "json_ricerca": string(vals), "json_risultato": nil}}}
}

func newFlowServer(t *testing.T) *flowServer {
	fs := &flowServer{t: t, rich: map[string]*flowRichiesta{}}
	fs.srv = newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) { fs.serve(w, r) })
	return fs
}

func (fs *flowServer) client(opts ...Option) *Client { return newTestClient(fs.t, fs.srv.URL, opts...) }

// add stores a richiesta directly, as if created earlier.
func (fs *flowServer) add(hash string, created time.Time, values map[string]string, state State) string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.next++
	id := fmt.Sprintf("%024x", fs.next)
	fs.rich[id] = &flowRichiesta{ID: id, Hash: hash, State: int(state), Stato: StatoInErogazione, Created: created.Unix(), Values: values}
	fs.ids = append(fs.ids, id)
	return id
}

func (fs *flowServer) reply(w http.ResponseWriter, data any) {
	b, _ := json.Marshal(map[string]any{"data": data, "success": true, "message": "", "error": nil})
	w.Write(b)
}

func drop(w http.ResponseWriter) {
	if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
		conn.Close()
	}
}

func (fs *flowServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var in struct {
		Hash     string            `json:"hash_visura"`
		State    *int              `json:"state"`
		Values   map[string]string `json:"json_visura"`
		Callback json.RawMessage   `json:"callback_data"`
	}
	_ = json.Unmarshal(body, &in)
	if fs.hook != nil {
		fs.hook(r.Method, r.URL.Path, body)
	}
	id := strings.TrimPrefix(r.URL.Path, "/richiesta/")
	switch {
	case r.Method == "POST" && r.URL.Path == "/richiesta":
		fs.creates.Add(1)
		require.NotNil(fs.t, in.State, "state must always be sent")
		state := *in.State
		if fs.createClosed.Load() {
			state = 1
			fs.charges.Add(1)
		}
		nid := fs.add(in.Hash, time.Now(), in.Values, State(state))
		fs.mu.Lock()
		fs.rich[nid].Callback = in.Callback
		fs.mu.Unlock()
		if fs.dropCreateAfter.CompareAndSwap(true, false) {
			drop(w)
			return
		}
		fs.reply(w, fs.get(nid).wire())
	case r.Method == "GET" && r.URL.Path == "/richiesta":
		fs.mu.Lock()
		list := make([]map[string]any, 0, len(fs.ids))
		for _, id := range fs.ids {
			list = append(list, fs.rich[id].wire())
		}
		fs.mu.Unlock()
		fs.reply(w, list)
	case r.Method == "GET":
		fs.mu.Lock()
		fs.fetched = append(fs.fetched, id)
		fs.mu.Unlock()
		if fs.get(id) == nil {
			writeJSON(w, 404, `{"data":null,"success":false,"message":"no request matches this id","error":202}`)
			return
		}
		data := fs.get(id).wire()
		if fs.staleReads.Add(-1) >= 0 {
			data["state"] = StateDraft
		}
		fs.reply(w, data)
	case r.Method == "PUT" && in.State != nil && *in.State == 1:
		fs.close(w, id)
	default:
		writeJSON(w, 400, `{"data":null,"success":false,"message":"unexpected","error":1}`)
	}
}

func (fs *flowServer) close(w http.ResponseWriter, id string) {
	fs.closes.Add(1)
	if fs.dropCloseBefore.CompareAndSwap(true, false) {
		drop(w)
		return
	}
	if code := fs.refuseClose.Swap(0); code != 0 {
		writeJSON(w, int(code), `{"data":null,"success":false,"message":"refused","error":1}`)
		return
	}
	rr := fs.get(id)
	fs.mu.Lock()
	already := rr.State == 1
	if !already {
		rr.State = 1
		fs.charges.Add(1)
	}
	fs.mu.Unlock()
	if already {
		writeJSON(w, 400, `{"data":null,"success":false,"message":"the request has already been closed","error":239}`)
		return
	}
	if fs.dropCloseAfter.CompareAndSwap(true, false) {
		drop(w)
		return
	}
	if fs.closeAnswer != nil {
		fs.reply(w, fs.closeAnswer(rr))
		return
	}
	fs.reply(w, rr.wire())
}

func (fs *flowServer) get(id string) *flowRichiesta {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.rich[id]
}

func validA2Values(t *testing.T) Values {
	t.Helper()
	return Values{
		"$0": "Mario", "$1": "Rossi", "$2": "mario.rossi@example.it", "$3": "3331234567",
		"$4": "RSSMRA80A01H501U", "$5": FileValue("id.pdf", "application/pdf", []byte("%PDF-1.4 id")),
		"$6": FileValue("cf.jpg", "image/jpeg", []byte{0xff, 0xd8, 0xff}),
	}
}

func TestSubmitDraftThenClose(t *testing.T) {
	fs := newFlowServer(t)
	a2 := decodeVisura(t, "visura_a2.json")
	r, err := fs.client().Submit(context.Background(), a2, validA2Values(t))
	require.NoError(t, err)
	assert.Equal(t, StateSubmitted, r.State)
	assert.EqualValues(t, 1, fs.creates.Load())
	assert.EqualValues(t, 1, fs.closes.Load())
	assert.EqualValues(t, 1, fs.charges.Load())
	assert.Equal(t, validA2Values(t), Values(fs.get(r.ID).Values))
}

func TestSubmitInvalidApplicantSendsNothing(t *testing.T) {
	fs := newFlowServer(t)
	a2 := decodeVisura(t, "visura_a2.json")
	values := validA2Values(t)
	delete(values, "$3")
	values["$4"] = "RSSMRA80A01H501A" // wrong check character
	_, err := fs.client().Submit(context.Background(), a2, values)
	assert.ErrorIs(t, err, ErrInvalidFields)
	assert.Contains(t, err.Error(), "CELLULARE")
	assert.Zero(t, fs.srv.hits.Load(), "an invalid applicant must not reach the server")
}

func TestSubmitCloseDroppedAfterApplyIsNotClosedTwice(t *testing.T) {
	fs := newFlowServer(t)
	fs.dropCloseAfter.Store(true)
	r, err := fs.client().Submit(context.Background(), decodeVisura(t, "visura_a2.json"), validA2Values(t))
	require.NoError(t, err, "the read-back shows the close was applied")
	assert.Equal(t, StateSubmitted, r.State)
	assert.EqualValues(t, 1, fs.closes.Load(), "exactly one closing PUT")
	assert.EqualValues(t, 1, fs.charges.Load())
}

// A close lost before it was applied is not sent again by Submit: the
// outcome is unknown, with the draft and the time the close was sent, and
// Resume closes it once the settle time has passed.
func TestSubmitCloseDroppedBeforeApplyIsNotClosedAgain(t *testing.T) {
	fs := newFlowServer(t)
	fs.dropCloseBefore.Store(true)
	const settle = time.Second // ample for the first Resume to come within it, on a loaded machine too
	c := fs.client(WithCloseSettle(settle))
	before := time.Now()
	_, err := c.Submit(context.Background(), decodeVisura(t, "visura_a2.json"), validA2Values(t))
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	var se *SubmitError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, StepClose, se.Step)
	assert.NotEmpty(t, se.ID)
	assert.Regexp(t, `^[0-9a-f]{32}$`, se.Ref)
	assert.False(t, se.CloseSentAt.Before(before), "CloseSentAt is when the close was sent")
	assert.WithinDuration(t, time.Now(), se.CloseSentAt, time.Second)
	assert.Contains(t, err.Error(), "no other close before")
	assert.EqualValues(t, 1, fs.closes.Load(), "one closing PUT, however the read-back looks")
	assert.Zero(t, fs.charges.Load())

	res, err := c.Resume(context.Background(), se.ID, WithCloseSentAt(se.CloseSentAt))
	require.NoError(t, err)
	assert.Equal(t, ResolutionPending, res.Status, "within the settle time: %v", res)
	assert.Equal(t, se.CloseSentAt.Add(settle), res.RetryAt)
	assert.EqualValues(t, 1, fs.closes.Load(), "nothing sent while the lost close may still apply")

	time.Sleep(time.Until(res.RetryAt))
	res, err = c.Resume(context.Background(), se.ID, WithCloseSentAt(se.CloseSentAt))
	require.NoError(t, err)
	assert.Equal(t, ResolutionResumed, res.Status, "%v", res)
	assert.Equal(t, StateSubmitted, res.Richiesta.State)
	assert.EqualValues(t, 2, fs.closes.Load())
	assert.EqualValues(t, 1, fs.charges.Load())
}

// The lost close did apply, but the read-back still shows a draft: Submit
// does not close again; Resume, after the settle time, reads it closed.
func TestSubmitStaleReadBackThenResumeFindsItClosed(t *testing.T) {
	fs := newFlowServer(t)
	fs.dropCloseAfter.Store(true)
	fs.staleReads.Store(1)
	c := fs.client(WithCloseSettle(50 * time.Millisecond))
	_, err := c.Submit(context.Background(), decodeVisura(t, "visura_a2.json"), validA2Values(t))
	var se *SubmitError
	require.ErrorAs(t, err, &se)
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	time.Sleep(60 * time.Millisecond)
	res, err := c.Resume(context.Background(), se.ID, WithCloseSentAt(se.CloseSentAt))
	require.NoError(t, err)
	assert.Equal(t, ResolutionCompleted, res.Status)
	assert.EqualValues(t, 1, fs.closes.Load())
	assert.EqualValues(t, 1, fs.charges.Load())
}

// After the settle time a draft read back open did not get the lost close:
// a refusal of Resume's close is then a plain refusal (failed), with the
// cause, and nothing is charged.
func TestResumeCloseRefused(t *testing.T) {
	for _, code := range []int32{402, 429} {
		fs := newFlowServer(t)
		fs.dropCloseBefore.Store(true)
		// A 429 is sent again while retries last (WithRateLimitRetry):
		// with none, it is the close's refusal as any other.
		c := fs.client(WithCloseSettle(10*time.Millisecond), WithRateLimitRetry(0, 0))
		_, err := c.Submit(context.Background(), decodeVisura(t, "visura_a2.json"), validA2Values(t))
		var se *SubmitError
		require.ErrorAs(t, err, &se)
		time.Sleep(20 * time.Millisecond)
		fs.refuseClose.Store(code)
		res, err := c.Resume(context.Background(), se.ID, WithCloseSentAt(se.CloseSentAt))
		require.NoError(t, err)
		assert.Equal(t, ResolutionFailed, res.Status, "status %d", code)
		var apiErr *APIError
		require.ErrorAs(t, res.Err, &apiErr)
		assert.Equal(t, int(code), apiErr.StatusCode)
		assert.Zero(t, fs.charges.Load())
		assert.EqualValues(t, 2, fs.closes.Load())
	}
}

// "Already closed" while the read-back still shows a draft proves nothing.
func TestResumeAlreadyClosedButReadOpenStaysUnknown(t *testing.T) {
	fs := newFlowServer(t)
	fs.dropCloseAfter.Store(true)
	fs.staleReads.Store(3) // Submit's read-back, Resume's, and the one after the 239
	c := fs.client(WithCloseSettle(10 * time.Millisecond))
	_, err := c.Submit(context.Background(), decodeVisura(t, "visura_a2.json"), validA2Values(t))
	var se *SubmitError
	require.ErrorAs(t, err, &se)
	time.Sleep(20 * time.Millisecond)
	res, err := c.Resume(context.Background(), se.ID, WithCloseSentAt(se.CloseSentAt))
	require.NoError(t, err)
	assert.Equal(t, ResolutionUnknown, res.Status)
	assert.ErrorIs(t, res.Err, ErrAlreadyClosed)
	assert.EqualValues(t, 1, fs.charges.Load())
	assert.EqualValues(t, 2, fs.closes.Load(), "the second close is refused by the server, not charged")
}

// A server that closes on create leaves nothing to close.
func TestSubmitDraftAlreadyClosed(t *testing.T) {
	fs := newFlowServer(t)
	fs.createClosed.Store(true)
	r, err := fs.client().Submit(context.Background(), decodeVisura(t, "visura_a2.json"), validA2Values(t))
	require.NoError(t, err)
	assert.Equal(t, StateSubmitted, r.State)
	assert.Zero(t, fs.closes.Load())
	assert.EqualValues(t, 1, fs.charges.Load())
}

// A 239 without an earlier unknown close is a plain refusal.
func TestCloseRefusalReported(t *testing.T) {
	fs := newFlowServer(t)
	id := fs.add("2631ec9b62135de4186f509fea7d954b", time.Now(), map[string]string{"$0": "x"}, StateSubmitted)
	_, err := fs.client().CloseRichiesta(context.Background(), id)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, CodeAlreadyClosed, apiErr.Code)
	assert.Zero(t, fs.charges.Load())
}

func TestSubmitDraftDroppedThenReconcile(t *testing.T) {
	fs := newFlowServer(t)
	a2 := decodeVisura(t, "visura_a2.json")
	values := validA2Values(t)
	now := time.Now()
	// A busy account: 1,000 richieste, some of the same service and time
	// window with other applicants.
	for i := range 1000 {
		hash := a2.HashVisura
		if i%10 != 0 {
			hash = "eccbc87e4b5ce2fe28308fd9f2a7baf3"
		}
		created := now.Add(-time.Duration(i) * time.Hour)
		if i%100 == 0 {
			created = now.Add(-time.Duration(i/100) * time.Minute)
		}
		fs.add(hash, created, map[string]string{"$0": fmt.Sprint("Other", i)}, 1)
	}
	fs.dropCreateAfter.Store(true)
	c := fs.client()
	_, err := c.Submit(context.Background(), a2, values)
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	var se *SubmitError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, StepDraft, se.Step)
	assert.Empty(t, se.ID)
	assert.Zero(t, fs.closes.Load(), "no close for an id we do not know")
	var ou *OutcomeUnknownError
	require.ErrorAs(t, err, &ou)

	before := fs.srv.hits.Load()
	r, err := c.Reconcile(context.Background(), a2.HashVisura, values, ou.SentAt)
	require.NoError(t, err)
	assert.Equal(t, StateDraft, r.State)
	assert.Equal(t, values, Values(fs.get(r.ID).Values))
	// One list, then only candidates: richieste of the A2 service created
	// within ±10 minutes (the new draft and ten others), closest first.
	fs.mu.Lock()
	fetched := fs.fetched
	fs.mu.Unlock()
	require.NotEmpty(t, fetched)
	assert.LessOrEqual(t, len(fetched), 11)
	assert.EqualValues(t, 1+len(fetched), fs.srv.hits.Load()-before)
	for _, id := range fetched {
		rr := fs.get(id)
		assert.Equal(t, a2.HashVisura, rr.Hash, "fetched a richiesta of another service")
		assert.LessOrEqual(t, time.Since(time.Unix(rr.Created, 0)), 11*time.Minute, "fetched a richiesta outside the window")
	}
	assert.Equal(t, r.ID, fetched[len(fetched)-1], "stops at the match")
	assert.EqualValues(t, 1, fs.creates.Load())

	// Now the draft is known, closing it costs exactly one charge.
	closed, err := c.CloseRichiesta(context.Background(), r.ID)
	require.NoError(t, err)
	assert.Equal(t, StateSubmitted, closed.State)
	assert.EqualValues(t, 1, fs.charges.Load())
}

func TestReconcileReportsNone(t *testing.T) {
	fs := newFlowServer(t)
	a2 := decodeVisura(t, "visura_a2.json")
	fs.add(a2.HashVisura, time.Now(), map[string]string{"$0": "Someone else"}, 0)
	fs.add(a2.HashVisura, time.Now().Add(-2*time.Hour), validA2Values(t), 0)
	c := fs.client()
	_, err := c.Reconcile(context.Background(), a2.HashVisura, validA2Values(t), time.Now(), WithReconcileDraft())
	assert.ErrorIs(t, err, ErrOutcomeUnknown, "too early to say the POST never arrived")
	assert.NotErrorIs(t, err, ErrNotFound)
	_, err = c.Reconcile(context.Background(), a2.HashVisura, validA2Values(t), time.Now().Add(-3*time.Minute), WithReconcileDraft())
	assert.ErrorIs(t, err, ErrNotFound, "past the settle time, a lost draft's absence is conclusive")
	_, err = c.Reconcile(context.Background(), a2.HashVisura, validA2Values(t), time.Now(), WithReconcileSettle(0), WithReconcileDraft())
	assert.ErrorIs(t, err, ErrNotFound)
	// A paid POST's absence never is: the list may lag behind.
	_, err = c.Reconcile(context.Background(), a2.HashVisura, validA2Values(t), time.Now().Add(-time.Hour), WithReconcileSettle(0))
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.NotErrorIs(t, err, ErrNotFound)
}

// A lone candidate that hides its values may be another applicant's draft:
// it is never guessed to be ours.
func TestReconcileNeverGuessesALoneUnverifiableCandidate(t *testing.T) {
	a2 := "2631ec9b62135de4186f509fea7d954b"
	item := fmt.Sprintf(`{"_id":"000000000000000000000007","state":0,"hash_visura":%q,"timestamp_creation":%d}`, a2, time.Now().Unix())
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
		body := item
		if r.URL.Path == "/richiesta" {
			body = "[" + item + "]"
		}
		writeJSON(w, 200, `{"data":`+body+`,"success":true,"message":"","error":null}`)
	})
	_, err := newTestClient(t, srv.URL).Reconcile(context.Background(), a2, validA2Values(t), time.Now(), WithReconcileSettle(0))
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.Contains(t, err.Error(), "000000000000000000000007")
}

func TestDryRunCreatesOnceAndClosesNothing(t *testing.T) {
	fs := newFlowServer(t)
	res, err := fs.client().DryRun(context.Background(), decodeVisura(t, "visura_a2.json"), validA2Values(t))
	require.NoError(t, err)
	require.NotNil(t, res.Echo)
	assert.EqualValues(t, 1, fs.creates.Load())
	assert.Zero(t, fs.closes.Load())
}

// scriptedServer answers GET /richiesta/{id} with successive bodies; the
// last one repeats.
func scriptedServer(t *testing.T, bodies ...string) *countingServer {
	return newCountingServer(t, func(n int32, w http.ResponseWriter, r *http.Request) {
		i := min(int(n)-1, len(bodies)-1)
		if strings.HasPrefix(bodies[i], "status:") {
			var code int
			fmt.Sscanf(bodies[i], "status:%d", &code)
			writeJSON(w, code, `{"data":null,"success":false,"message":"busy","error":0}`)
			return
		}
		writeJSON(w, 200, `{"data":`+bodies[i]+`,"success":true,"message":"","error":null}`)
	})
}

func richiestaIn(stato Stato) string {
	return fmt.Sprintf(`{"_id":"5f2829ce065afc21cc60ad0e","state":1,"stato_richiesta":%q}`, stato)
}

func fastPoll() WaitOption { return WithPollInterval(time.Millisecond, 2*time.Millisecond) }

func TestWaitUntilEachEnd(t *testing.T) {
	search := decodeRichiesta(t, "spec/put_richiesta_id_ricerche_200.json")
	search.StatoRichiesta = StatoInRicerca
	searchJSON := string(mustJSON(t, readSpecData(t, "spec/put_richiesta_id_ricerche_200.json", map[string]any{"stato_richiesta": "In ricerca"})))
	cases := []struct {
		name   string
		bodies []string
		want   Stato
		err    error
	}{
		{"document", []string{richiestaIn(StatoInErogazione), richiestaIn(StatoInErogazione), richiestaIn(StatoDatiDisponibili)}, StatoDatiDisponibili, nil},
		{"evasa", []string{richiestaIn(StatoInErogazione), richiestaIn(StatoVisuraEvasa)}, StatoVisuraEvasa, nil},
		{"search results", []string{richiestaIn(StatoInRicerca), searchJSON}, StatoInRicerca, nil},
		{"cancelled", []string{richiestaIn(StatoInErogazione), richiestaIn(StatoAnnullata)}, StatoAnnullata, ErrCancelled},
		{"transient failures", []string{"status:503", "status:502", richiestaIn(StatoVisuraEvasa)}, StatoVisuraEvasa, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := scriptedServer(t, tc.bodies...)
			var seen []Stato
			r, err := newTestClient(t, srv.URL, WithRetry(1, 0, 0)).Wait(context.Background(), "5f2829ce065afc21cc60ad0e",
				fastPoll(), WithOnChange(func(r *Richiesta) { seen = append(seen, r.StatoRichiesta) }))
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				var ce *CancelledError
				require.ErrorAs(t, err, &ce)
				r = ce.Richiesta
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.want, r.StatoRichiesta)
			assert.Equal(t, tc.want, seen[len(seen)-1])
			for i := 1; i < len(seen); i++ {
				assert.NotEqual(t, seen[i-1], seen[i], "OnChange only on changes")
			}
		})
	}
}

func TestWaitEndsOnFailedSearch(t *testing.T) {
	failed := string(mustJSON(t, readSpecData(t, "spec/post_richiesta_id_200.json", nil)))
	srv := scriptedServer(t, richiestaIn(StatoInRicerca), failed)
	_, err := newTestClient(t, srv.URL).Wait(context.Background(), "5f2829ce065afc21cc60ad0e", fastPoll())
	require.ErrorIs(t, err, ErrSearchFailed)
	var sf *SearchFailedError
	require.ErrorAs(t, err, &sf)
	assert.Equal(t, RicercaErrore, sf.Richiesta.LastRicerca().StatoRicerca)
	assert.Contains(t, err.Error(), "5f2829ce065afc21cc60ad0e_1")
	assert.NotContains(t, err.Error(), "12345678910", "the searched values stay out of the error")
	assert.EqualValues(t, 2, srv.hits.Load())
}

func TestPollIntervalNeverBusyLoops(t *testing.T) {
	srv := scriptedServer(t, richiestaIn(StatoInErogazione))
	// Room for the first poll on a loaded machine, well before a second
	// one a second later.
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	_, err := newTestClient(t, srv.URL).Wait(ctx, "abc", WithPollInterval(0, 0))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.EqualValues(t, 1, srv.hits.Load(), "a zero interval means one second, not a busy loop")
}

func TestWaitGivesUpOnPermanentError(t *testing.T) {
	srv := scriptedServer(t, "status:404")
	_, err := newTestClient(t, srv.URL).Wait(context.Background(), "abc", fastPoll())
	assert.ErrorIs(t, err, ErrNotFound)
	assert.EqualValues(t, 1, srv.hits.Load())
	srv = scriptedServer(t, "status:503")
	_, err = newTestClient(t, srv.URL, WithRetry(1, 0, 0)).Wait(context.Background(), "abc", fastPoll())
	assert.ErrorIs(t, err, ErrServer)
	assert.EqualValues(t, 5, srv.hits.Load(), "five temporary failures in a row end the wait")
}

func TestWaitCancelledPromptlyWithoutLeaks(t *testing.T) {
	srv := scriptedServer(t, richiestaIn(StatoInErogazione))
	c := newTestClient(t, srv.URL)
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Wait(ctx, "abc", WithPollInterval(time.Hour, time.Hour))
		done <- err
	}()
	require.Eventually(t, func() bool { return srv.hits.Load() == 1 }, 5*time.Second, time.Millisecond)
	time.Sleep(10 * time.Millisecond)
	assertPromptCancel(t, cancel, done)
	c.http.CloseIdleConnections()
	// Polled by hand: assert.Eventually runs its condition on goroutines of
	// its own, which would be counted.
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("goroutines: %d before, %d after\n%s", before, n, goroutineDump())
	}
}

func TestSearchFlowFromSpecExamples(t *testing.T) {
	id := "5f283eae065afc21cf466ea4"
	results := string(mustJSON(t, readSpecData(t, "spec/put_richiesta_id_ricerche_200.json",
		map[string]any{"stato_richiesta": "In ricerca", "id_ricerca": nil, "indice_ricerca": nil})))
	chosen := string(mustJSON(t, readSpecData(t, "spec/put_richiesta_id_ricerche_200.json", nil)))
	done := string(mustJSON(t, readSpecData(t, "spec/get_richiesta_id_200.json", map[string]any{"_id": id})))
	var phase atomic.Int32
	var choice map[string]any
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
		body := results
		switch {
		case r.Method == "PUT" && r.URL.Path == "/richiesta/"+id+"/ricerche":
			require.NoError(t, json.NewDecoder(r.Body).Decode(&choice))
			phase.Store(1)
			body = chosen
		case phase.Load() == 1:
			phase.Store(2)
			body = chosen
		case phase.Load() == 2:
			body = done
		}
		writeJSON(w, 200, `{"data":`+body+`,"success":true,"message":"","error":null}`)
	})
	c := newTestClient(t, srv.URL)
	ctx := context.Background()
	r, err := c.Wait(ctx, id, fastPoll())
	require.NoError(t, err)
	require.True(t, r.SearchResultsReady())
	last := r.LastRicerca()
	assert.Equal(t, "ALTRAVIA SRL", last.Risultati()[0].Text("Denominazione"))

	r, err = c.ChooseRisultato(ctx, id, last.IDRicerca, last.Indici()[1])
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"id_ricerca": id + "_0", "indice": float64(1)}, choice)
	assert.Equal(t, StatoInErogazione, r.StatoRichiesta)

	var seen []Stato
	r, err = c.Wait(ctx, id, fastPoll(), WithOnChange(func(r *Richiesta) { seen = append(seen, r.StatoRichiesta) }))
	require.NoError(t, err)
	assert.Equal(t, []Stato{StatoInErogazione, StatoVisuraEvasa}, seen)
	assert.Equal(t, []string{"5f22f722065afc42223c7131.pdf"}, r.Allegati)
}

// readSpecData returns the data object of a spec example with some keys
// replaced.
func readSpecData(t *testing.T, file string, set map[string]any) map[string]any {
	var env struct {
		Data map[string]any `json:"data"`
	}
	require.NoError(t, json.Unmarshal(readTestdata(t, file), &env))
	for k, v := range set {
		env.Data[k] = v
	}
	return env.Data
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func goroutineDump() string {
	buf := make([]byte, 1<<16)
	return string(buf[:runtime.Stack(buf, true)])
}

func TestSubmitPassesValidationOptions(t *testing.T) {
	fs := newFlowServer(t)
	a2 := decodeVisura(t, "visura_a2.json")
	_, err := fs.client().Submit(context.Background(), a2, validA2Values(t), WithValidation(WithMaxFileSize(2)))
	assert.ErrorIs(t, err, ErrInvalidFields, "a 3-byte scan over a 2-byte cap")
	assert.Zero(t, fs.srv.hits.Load())
}

// TestReconcileUnverifiableIsNotNotFound: two candidates that show no values
// cannot be told apart; either may be the richiesta the POST created, so
// Reconcile must not answer ErrNotFound ("safe to send again").
func TestReconcileUnverifiableIsNotNotFound(t *testing.T) {
	now := time.Now().Unix()
	a2 := "2631ec9b62135de4186f509fea7d954b"
	item := func(id string) string {
		return fmt.Sprintf(`{"_id":%q,"state":0,"hash_visura":%q,"stato_richiesta":"In ricerca","timestamp_creation":%d}`, id, a2, now)
	}
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
		body := "[" + item("000000000000000000000001") + "," + item("000000000000000000000002") + "]"
		if id := strings.TrimPrefix(r.URL.Path, "/richiesta/"); id != r.URL.Path {
			body = item(id) // no ricerche: the values cannot be read back
		}
		writeJSON(w, 200, `{"data":`+body+`,"success":true,"message":"","error":null}`)
	})
	_, err := newTestClient(t, srv.URL).Reconcile(context.Background(), a2, validA2Values(t), time.Now())
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.NotErrorIs(t, err, ErrNotFound)
	assert.EqualValues(t, 3, srv.hits.Load(), "one list, two candidate reads")
}

// listServer answers GET /richiesta with entries and GET /richiesta/{id}
// with the entry of that id, as raw JSON.
func listServer(t *testing.T, entries map[string]string, order []string) *countingServer {
	return newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/richiesta" {
			var list []string
			for _, id := range order {
				list = append(list, entries[id])
			}
			writeJSON(w, 200, `{"data":[`+strings.Join(list, ",")+`],"success":true,"message":"","error":null}`)
			return
		}
		writeJSON(w, 200, `{"data":`+entries[strings.TrimPrefix(r.URL.Path, "/richiesta/")]+`,"success":true,"message":"","error":null}`)
	})
}

func entry(id, hash string, created int64, values string, extra string) string {
	vals, _ := json.Marshal(values)
	return fmt.Sprintf(`{"_id":%q,"hash_visura":%q,"timestamp_creation":%d,"ricerche":[{"id_ricerca":"%s_0","json_ricerca":%s}]%s}`,
		id, hash, created, id, vals, extra)
}

func TestListRichiesteSurvivesAnOddEntry(t *testing.T) {
	now := time.Now().Unix()
	srv := listServer(t, map[string]string{
		"a": entry("aaaaaaaaaaaaaaaaaaaaaaaa", "h1", now, `{}`, `,"state":1`),
		"b": entry("bbbbbbbbbbbbbbbbbbbbbbbb", "h1", now, `{}`, ``), // no state
		"c": `{"_id":{"$oid":"x"},"state":1}`,
	}, []string{"a", "b", "c"})
	list, err := newTestClient(t, srv.URL).ListRichieste(context.Background())
	require.ErrorIs(t, err, ErrUnexpectedResponse)
	assert.Contains(t, err.Error(), "2 of 3")
	require.Len(t, list, 1)
	assert.Equal(t, "aaaaaaaaaaaaaaaaaaaaaaaa", list[0].ID)
}

func TestReconcileThroughOddEntries(t *testing.T) {
	a2 := "2631ec9b62135de4186f509fea7d954b"
	now := time.Now()
	ours, _ := json.Marshal(map[string]string(validA2Values(t)))
	t.Run("an unreadable entry of the service does not hide ours", func(t *testing.T) {
		srv := listServer(t, map[string]string{
			"odd":                      entry("0dd0dd0dd0dd0dd0dd0dd0dd", a2, now.Unix(), `{}`, ``), // no state: unreadable
			"0dd0dd0dd0dd0dd0dd0dd0dd": entry("0dd0dd0dd0dd0dd0dd0dd0dd", a2, now.Unix(), `{}`, ``),
			"ours":                     entry("0000000000000000000000aa", a2, now.Unix(), string(ours), `,"state":0`),
			"0000000000000000000000aa": entry("0000000000000000000000aa", a2, now.Unix(), string(ours), `,"state":0`),
		}, []string{"odd", "ours"})
		r, err := newTestClient(t, srv.URL).Reconcile(context.Background(), a2, validA2Values(t), now)
		require.NoError(t, err)
		assert.Equal(t, "0000000000000000000000aa", r.ID)
	})
	t.Run("an unreadable entry of the service keeps the outcome unknown", func(t *testing.T) {
		srv := listServer(t, map[string]string{
			"odd":                      entry("0dd0dd0dd0dd0dd0dd0dd0dd", a2, now.Unix(), `{}`, ``),
			"0dd0dd0dd0dd0dd0dd0dd0dd": entry("0dd0dd0dd0dd0dd0dd0dd0dd", a2, now.Unix(), `{}`, ``),
		}, []string{"odd"})
		_, err := newTestClient(t, srv.URL).Reconcile(context.Background(), a2, validA2Values(t), now, WithReconcileSettle(0))
		require.ErrorIs(t, err, ErrOutcomeUnknown)
		assert.Contains(t, err.Error(), "0dd0dd0dd0dd0dd0dd0dd0dd")
	})
	withCreation := func(created string) string {
		return `{"_id":"0000000000000000000000bb","state":0,"hash_visura":"` + a2 + `","timestamp_creation":` + created + `,` +
			`"ricerche":[{"id_ricerca":"x_0","json_ricerca":` + strconv.Quote(string(ours)) + `}]}`
	}
	t.Run("an entry without a creation time is still a candidate", func(t *testing.T) {
		noTime := withCreation(`false`)
		srv := listServer(t, map[string]string{"x": noTime, "0000000000000000000000bb": noTime}, []string{"x"})
		r, err := newTestClient(t, srv.URL).Reconcile(context.Background(), a2, validA2Values(t), now, WithReconcileSettle(0))
		require.NoError(t, err)
		assert.Equal(t, "0000000000000000000000bb", r.ID)
	})
	t.Run("a creation time sent as a date is read", func(t *testing.T) {
		// Italian wall-clock time, as PHP prints it: a minute after now is a
		// candidate, a date in 2024 is too old to be ours.
		rome := now.Add(time.Minute).In(time.FixedZone("", 0)).Add(romeOffset(now))
		for created, found := range map[string]bool{strconv.Quote(rome.Format("2006-01-02 15:04:05")): true, `"2024-05-01 10:00:00"`: false} {
			entry := withCreation(created)
			srv := listServer(t, map[string]string{"x": entry, "0000000000000000000000bb": entry}, []string{"x"})
			r, err := newTestClient(t, srv.URL).Reconcile(context.Background(), a2, validA2Values(t), now, WithReconcileSettle(0))
			if found {
				require.NoError(t, err, created)
				assert.Equal(t, "0000000000000000000000bb", r.ID)
			} else {
				assert.ErrorIs(t, err, ErrOutcomeUnknown, created)
			}
		}
	})
	t.Run("a zero or future sentAt is refused", func(t *testing.T) {
		c := newTestClient(t, "http://127.0.0.1:1")
		for _, at := range []time.Time{{}, now.Add(time.Hour)} {
			_, err := c.Reconcile(context.Background(), a2, validA2Values(t), at)
			assert.ErrorIs(t, err, ErrInvalidArgument)
		}
	})
}

func TestWaitOnADraftEndsAtOnce(t *testing.T) {
	srv := scriptedServer(t, `{"_id":"5f2829ce065afc21cc60ad0e","state":0,"stato_richiesta":"In ricerca"}`)
	_, err := newTestClient(t, srv.URL).Wait(context.Background(), "5f2829ce065afc21cc60ad0e", fastPoll())
	assert.ErrorIs(t, err, ErrInvalidRequest)
	assert.EqualValues(t, 1, srv.hits.Load())
}

// Each message carries one "visengine: " prefix, however deeply the SDK's
// own errors nest (issue 9: never "visengine: submit: draft: visengine: …").
func TestOnePrefixPerMessage(t *testing.T) {
	a2 := decodeVisura(t, "visura_a2.json")
	ctx := context.Background()
	var errs []error

	fs := newFlowServer(t)
	fs.refuseClose.Store(402)
	_, err := fs.client().Submit(ctx, a2, validA2Values(t))
	var se *SubmitError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, StepClose, se.Step)
	assert.Equal(t, "visengine: submit (close of richiesta "+se.ID+"): PUT /richiesta/"+se.ID+": HTTP 402 (Visengine error 1): refused", err.Error())
	errs = append(errs, err)

	fs = newFlowServer(t)
	fs.dropCreateAfter.Store(true)
	_, err = fs.client().Submit(ctx, a2, validA2Values(t))
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.True(t, strings.HasPrefix(err.Error(), "visengine: submit (draft): outcome of POST /richiesta unknown"), err.Error())
	errs = append(errs, err)

	fs = newFlowServer(t) // an unknown close
	fs.dropCloseBefore.Store(true)
	_, err = fs.client().Submit(ctx, a2, validA2Values(t))
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.Contains(t, err.Error(), "; no other close before ")
	errs = append(errs, err)

	_, err = fs.client().Reconcile(ctx, a2.HashVisura, Values{"$0": "nobody"}, time.Now())
	errs = append(errs, err)
	_, err = fs.client().Reconcile(ctx, a2.HashVisura, Values{"$0": "nobody"}, time.Now().Add(-time.Hour))
	errs = append(errs, err)
	_, err = newTestClient(t, closedPortURL(t), WithRetry(1, 0, 0)).Reconcile(ctx, a2.HashVisura, Values{"$0": "x"}, time.Now())
	errs = append(errs, err)

	draft := scriptedServer(t, `{"_id":"5f2829ce065afc21cc60ad0e","state":0,"stato_richiesta":"In ricerca"}`)
	_, err = newTestClient(t, draft.URL).Wait(ctx, "5f2829ce065afc21cc60ad0e", fastPoll())
	errs = append(errs, err)
	_, err = newTestClient(t, closedPortURL(t), WithRetry(1, 0, 0)).CloseRichiesta(ctx, "abc")
	errs = append(errs, err)
	_, err = fs.client().Submit(ctx, a2, Values{"$0": "Mario"})
	errs = append(errs, err)

	for _, err := range errs {
		require.Error(t, err)
		assert.Equal(t, 1, strings.Count(err.Error(), "visengine: "), "%q", err)
		assert.True(t, strings.HasPrefix(err.Error(), "visengine: "), "%q", err)
	}
}

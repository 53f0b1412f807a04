package visenginetest_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/visenginetest"
)

// fastPoll polls every few milliseconds, for a fake that moves on a timer.
func fastPoll() visengine.WaitOption {
	return visengine.WithPollInterval(time.Millisecond, 4*time.Millisecond)
}

// submitA2 pays for an A2 and returns its id.
func submitA2(t *testing.T, c *visengine.Client, n int, opts ...visengine.SubmitOption) string {
	t.Helper()
	r, err := c.Submit(testCtx(t), getVisura(t, c, hashA2), applicant(n), opts...)
	require.NoError(t, err)
	return r.ID
}

// TestSDKWaitSeesEachStateOnce: with the fake moving on its own, Wait
// reports each state once, in the order of the lifecycle, and returns as
// soon as the document is ready.
func TestSDKWaitSeesEachStateOnce(t *testing.T) {
	_, c := fake(t, visenginetest.WithAutoAdvance(15*time.Millisecond))
	id := submitA2(t, c, 9)
	var seen []visengine.Stato
	r, err := c.Wait(testCtx(t), id, fastPoll(), visengine.WithOnChange(func(r *visengine.Richiesta) {
		assert.Equal(t, id, r.ID)
		seen = append(seen, r.StatoRichiesta)
	}))
	require.NoError(t, err)
	assert.True(t, r.DocumentReady())
	require.NotEmpty(t, seen)
	assert.Equal(t, r.StatoRichiesta, seen[len(seen)-1], "the last change is what Wait returns")
	order := []visengine.Stato{visengine.StatoInErogazione, visengine.StatoDatiDisponibili, visengine.StatoVisuraEvasa}
	last := -1
	for _, s := range seen {
		i := slices.Index(order, s)
		require.Greater(t, i, last, "states out of order or repeated: %v", seen)
		last = i
	}
	for _, s := range seen[:len(seen)-1] {
		assert.False(t, s.DocumentReady(), "Wait went on after a ready state: %v", seen)
	}
	assert.Equal(t, []string{id + ".pdf"}, r.Allegati)
}

// TestSDKWaitCancelled: an operator cancelling the richiesta ends Wait with
// ErrCancelled and the richiesta as last read.
func TestSDKWaitCancelled(t *testing.T) {
	srv, c := fake(t)
	id := submitA2(t, c, 10)
	polls := 0
	_, err := c.Wait(testCtx(t), id, fastPoll(), visengine.WithOnChange(func(r *visengine.Richiesta) {
		polls++
		if r.StatoRichiesta == visengine.StatoInErogazione {
			require.NoError(t, srv.Cancel(id))
		}
	}))
	require.ErrorIs(t, err, visengine.ErrCancelled)
	var ce *visengine.CancelledError
	require.ErrorAs(t, err, &ce)
	require.NotNil(t, ce.Richiesta)
	assert.Equal(t, id, ce.Richiesta.ID)
	assert.Equal(t, visengine.StatoAnnullata, ce.Richiesta.StatoRichiesta)
	assert.False(t, ce.Richiesta.TimestampStati.Annullata.IsZero())
	assert.Equal(t, 2, polls)
	n, _ := srv.Charges()
	assert.Equal(t, 1, n, "no refund, no second charge")
}

// TestSDKWaitContextEndsPromptly: Wait returns ctx's error at once, both
// while sleeping between polls and while a poll is stuck on the server.
func TestSDKWaitContextEndsPromptly(t *testing.T) {
	cases := []struct {
		name  string
		stall bool // the poll itself hangs
	}{{"between polls", false}, {"during a poll", true}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := fake(t)
			id := submitA2(t, c, 11)
			if tc.stall {
				srv.Fault("GET", "/richiesta/{id}", visenginetest.Fault{Delay: time.Hour})
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, err := c.Wait(ctx, id, visengine.WithPollInterval(time.Hour, time.Hour))
				done <- err
			}()
			require.Eventually(t, func() bool {
				return count(srv.Requests(), "GET", "/richiesta/"+id) == 1
			}, 5*time.Second, time.Millisecond, "the first poll is made at once")
			time.Sleep(10 * time.Millisecond)
			start := time.Now()
			cancel()
			select {
			case err := <-done:
				assert.ErrorIs(t, err, context.Canceled)
				assert.Less(t, time.Since(start), 500*time.Millisecond)
			case <-time.After(5 * time.Second):
				t.Fatal("Wait did not return after its context ended")
			}
		})
	}
}

// TestSDKSearchFlow runs a "con Ricerca" service: the first search, one
// more search and a choice (each charged prezzo_ricerca), then the document.
func TestSDKSearchFlow(t *testing.T) {
	srv, c := fake(t, visenginetest.WithAutoAdvance(5*time.Millisecond))
	ctx := testCtx(t)
	v := getVisura(t, c, hashRicerca)
	require.True(t, bool(v.HasRicerca))

	r, err := c.Submit(ctx, v, visengine.Values{"$0": "Altravia"})
	require.NoError(t, err)
	id := r.ID
	assert.Equal(t, visengine.StatoInRicerca, r.StatoRichiesta)

	r, err = c.Wait(ctx, id, fastPoll())
	require.NoError(t, err)
	require.True(t, r.SearchResultsReady())
	assert.False(t, r.DocumentReady())
	first := r.LastRicerca()
	assert.Equal(t, id+"_0", first.IDRicerca)
	assert.Equal(t, []int{0, 1}, first.Indici())
	for _, n := range first.Indici() {
		assert.True(t, strings.HasPrefix(first.Risultati()[n].Text("Denominazione"), "ALTRAVIA"), first.Risultati()[n].Text("Denominazione"))
		assert.Len(t, first.Risultati()[n].Text("PIva"), 11)
		assert.Equal(t, "SOCIETA' A RESPONSABILITA' LIMITATA", first.Risultati()[n].Text("NatGiu"))
	}

	r, err = c.AddRicerca(ctx, id, visengine.Values{"$1": "12485671007"})
	require.NoError(t, err)
	require.Len(t, r.Ricerche, 2)
	assert.Equal(t, []string{id + "_0", id + "_1"}, []string{r.Ricerche[0].IDRicerca, r.Ricerche[1].IDRicerca})
	second := r.LastRicerca()
	assert.Equal(t, visengine.RicercaEvasa, second.StatoRicerca)
	require.Equal(t, []int{0}, second.Indici())
	assert.Equal(t, "12485671007", second.Risultati()[0].Text("CodFisc"))
	assert.True(t, r.SearchResultsReady())

	n0 := len(srv.Requests())
	r, err = c.ChooseRisultato(ctx, id, second.IDRicerca, 0)
	require.NoError(t, err)
	assert.Equal(t, visengine.StatoInErogazione, r.StatoRichiesta)
	assert.Equal(t, id+"_1", r.IDRicerca)
	require.NotNil(t, r.IndiceRicerca)
	assert.Equal(t, 0, *r.IndiceRicerca)
	reqs := since(srv, n0)
	require.Len(t, reqs, 1)
	assert.JSONEq(t, `{"id_ricerca":"`+id+`_1","indice":0}`, string(reqs[0].Body), "indice is sent as an integer")

	_, err = c.ChooseRisultato(ctx, id, second.IDRicerca, 0)
	assert.ErrorIs(t, err, visengine.ErrConflict, "a choice is made once")

	log := srv.ChargeLog()
	require.Len(t, log, 3, "the document, the added search, the chosen result")
	assert.Equal(t, []string{"visura", "ricerca", "ricerca"}, []string{log[0].What, log[1].What, log[2].What})
	assert.Equal(t, []visengine.Price{visengine.Cents(478), visengine.Cents(38), visengine.Cents(38)}, []visengine.Price{log[0].Amount, log[1].Amount, log[2].Amount})
	assert.Equal(t, []string{id, id, id}, []string{log[0].RichiestaID, log[1].RichiestaID, log[2].RichiestaID})

	r, err = c.Wait(ctx, id, fastPoll())
	require.NoError(t, err)
	assert.True(t, r.DocumentReady())
	doc, err := c.GetDocumento(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, id+".zip", doc.Nome)
	n, total := srv.Charges()
	assert.Equal(t, 3, n)
	assert.Equal(t, visengine.Cents(554), total)
}

// TestSDKConcurrentSubmitAndWait: one client, one fake, 20 applicants at
// once, then 20 Waits: 20 distinct richieste, 20 charges, no race.
func TestSDKConcurrentSubmitAndWait(t *testing.T) {
	const n = 20
	srv, c := fake(t, visenginetest.WithAutoAdvance(5*time.Millisecond))
	ctx := testCtx(t)
	v := getVisura(t, c, hashA2)
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := c.Submit(ctx, v, applicant(i))
			if err == nil {
				ids[i] = r.ID
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))

	stati := make([]visengine.Stato, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := c.Wait(ctx, ids[i], fastPoll())
			if err == nil {
				stati[i] = r.StatoRichiesta
				if r.Ricerche[0].Valori()["$4"] != applicant(i)["$4"] {
					err = errors.New("richiesta " + r.ID + " holds another applicant")
				}
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	for _, s := range stati {
		assert.True(t, s.DocumentReady(), s)
	}

	distinct := map[string]bool{}
	for _, id := range ids {
		distinct[id] = true
	}
	assert.Len(t, distinct, n)
	count, total := srv.Charges()
	assert.Equal(t, n, count)
	assert.Equal(t, visengine.Cents(n*2000), total)
	for _, ch := range srv.ChargeLog() {
		assert.True(t, distinct[ch.RichiestaID], "charge for an unknown richiesta")
		delete(distinct, ch.RichiestaID) // each charged once
	}
	assert.Empty(t, distinct)
}

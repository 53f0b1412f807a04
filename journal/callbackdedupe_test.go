package journal_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/internal/pgtest"
	"github.com/visengine-go/visengine/journal"
)

// The claim, settle and expiry rules of visengine.CallbackDedupe, on two
// pools of one database, as two replicas see them.
func TestPostgresCallbackDedupe(t *testing.T) {
	url := pgtest.Start(t)
	a := openPostgresSchema(t, url, "intake.journal").CallbackDedupe()
	b := openPostgresSchema(t, url, "intake.journal").CallbackDedupe()
	claim := func(d visengine.CallbackDedupe, key, holder string, lease time.Duration) visengine.CallbackClaim {
		t.Helper()
		got, err := d.ClaimCallback(ctx, key, holder, lease)
		require.NoError(t, err)
		return got
	}
	settle := func(d visengine.CallbackDedupe, key, holder string, handled bool, ttl time.Duration) {
		t.Helper()
		require.NoError(t, d.SettleCallback(ctx, key, holder, handled, ttl))
	}
	k := strings.Repeat("ab", 32)
	assert.Equal(t, visengine.CallbackClaimed, claim(a, k, "A", time.Minute))
	assert.Equal(t, visengine.CallbackBusy, claim(b, k, "B", time.Minute), "A holds it")
	settle(a, k, "A", false, time.Hour)
	assert.Equal(t, visengine.CallbackClaimed, claim(b, k, "B", time.Minute), "released by a failure")
	settle(a, k, "A", true, time.Hour) // not A's any more: ignored
	assert.Equal(t, visengine.CallbackBusy, claim(a, k, "A", time.Minute))
	settle(b, k, "B", true, time.Hour)
	assert.Equal(t, visengine.CallbackDone, claim(a, k, "A", time.Minute))
	assert.Equal(t, visengine.CallbackDone, claim(b, k, "C", time.Minute))
	settle(b, k, "B", false, time.Hour) // a done mark is not undone
	assert.Equal(t, visengine.CallbackDone, claim(a, k, "A", time.Minute))

	// A lease that ran out (a replica that died) is taken over; the old
	// holder's late settle changes nothing.
	k2 := strings.Repeat("cd", 32)
	assert.Equal(t, visengine.CallbackClaimed, claim(a, k2, "A", time.Millisecond))
	time.Sleep(20 * time.Millisecond)
	assert.Equal(t, visengine.CallbackClaimed, claim(b, k2, "B", time.Minute), "the lease ran out")
	settle(a, k2, "A", true, time.Hour)
	assert.Equal(t, visengine.CallbackBusy, claim(a, k2, "A", time.Minute), "still B's")
	// A done mark lasts its window.
	settle(b, k2, "B", true, time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	assert.Equal(t, visengine.CallbackClaimed, claim(a, k2, "A", time.Minute), "the window ran out")

	for _, bad := range []struct {
		key, holder string
		d           time.Duration
	}{{"", "A", time.Minute}, {k, "", time.Minute}, {k, "A", 0}, {strings.Repeat("k", 129), "A", time.Minute}} {
		_, err := a.ClaimCallback(ctx, bad.key, bad.holder, bad.d)
		assert.ErrorIs(t, err, visengine.ErrInvalidArgument)
		assert.ErrorIs(t, a.SettleCallback(ctx, bad.key, bad.holder, true, bad.d), visengine.ErrInvalidArgument)
	}
}

// openPostgresSchema opens the journal table in a schema, creating it.
func openPostgresSchema(t *testing.T, url, table string) *journal.Postgres {
	t.Helper()
	db := openPool(t, url)
	_, err := db.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+table[:strings.Index(table, ".")])
	require.NoError(t, err)
	p, err := journal.OpenPostgres(ctx, db, journal.WithTable(table))
	require.NoError(t, err)
	return p
}

// Expired marks are swept as events are settled: the table does not grow
// with every event ever delivered.
func TestPostgresCallbackDedupeSweeps(t *testing.T) {
	url := pgtest.Start(t)
	p := openPostgres(t, url)
	d := p.CallbackDedupe()
	for i := range 200 {
		key := fmt.Sprintf("%064x", i)
		got, err := d.ClaimCallback(ctx, key, "A", time.Minute)
		require.NoError(t, err)
		require.Equal(t, visengine.CallbackClaimed, got)
		require.NoError(t, d.SettleCallback(ctx, key, "A", true, time.Microsecond))
	}
	var rows int
	require.NoError(t, openPool(t, url).QueryRowContext(ctx, `SELECT count(*) FROM visengine_journal_callbacks`).Scan(&rows))
	assert.Less(t, rows, 200, "expired marks are swept")
	assert.Positive(t, rows)
}

// One callback delivered to two replicas, each a CallbackHandler on its
// own *sql.DB, calls the function once: at once (the second replica
// answers 503 while the first handles it, 200 after), and replayed later.
// A failure on one replica lets the other's redelivery handle the event.
func TestCallbackHandlersOnTwoReplicasCallFnOnce(t *testing.T) {
	url := pgtest.Start(t)
	secret := strings.Repeat("s", visengine.MinCallbackSecretLen)
	var calls atomic.Int32
	var failFirst atomic.Bool
	fn := func(context.Context, *visengine.CallbackEvent) error {
		calls.Add(1)
		time.Sleep(20 * time.Millisecond) // long enough for the other replica to see it busy
		if failFirst.CompareAndSwap(true, false) {
			return errors.New("db down")
		}
		return nil
	}
	replicas := make([]http.Handler, 2)
	for i := range replicas {
		h, err := visengine.CallbackHandler(fn, visengine.WithCallbackSecret(secret),
			visengine.WithCallbackDedupeStore(openPostgres(t, url).CallbackDedupe()))
		require.NoError(t, err)
		replicas[i] = h
	}
	deliver := func(h http.Handler, id string) *httptest.ResponseRecorder {
		body := fmt.Sprintf(`{"data":{"_id":%q,"state":1,"stato_richiesta":"Dati disponibili","callback_data":{"url":"https://hooks.example.com/v","method":"JSON","data":{%q:%q}}}}`,
			id, visengine.CallbackSecretKey, secret)
		req := httptest.NewRequest(http.MethodPost, "/cb", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	const copies = 20 // of one event, half to each replica, at once
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for i := range copies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := deliver(replicas[i%2], "5f2829ce065afc21cc60ad0e")
			mu.Lock()
			defer mu.Unlock()
			statuses[rec.Code]++
			if rec.Code == http.StatusServiceUnavailable {
				assert.NotEmpty(t, rec.Header().Get("Retry-After"))
			}
		}()
	}
	wg.Wait()
	assert.EqualValues(t, 1, calls.Load(), "statuses %v", statuses)
	assert.Equal(t, copies, statuses[200]+statuses[503], "statuses %v", statuses)
	assert.Positive(t, statuses[200])
	for _, h := range replicas {
		assert.Equal(t, 200, deliver(h, "5f2829ce065afc21cc60ad0e").Code, "a replay anywhere")
	}
	assert.EqualValues(t, 1, calls.Load())

	failFirst.Store(true)
	assert.Equal(t, 500, deliver(replicas[0], "5f2829ce065afc21cc60ad0f").Code)
	assert.Equal(t, 200, deliver(replicas[1], "5f2829ce065afc21cc60ad0f").Code, "the redelivery elsewhere is handled")
	assert.Equal(t, 200, deliver(replicas[0], "5f2829ce065afc21cc60ad0f").Code)
	assert.EqualValues(t, 3, calls.Load())
}

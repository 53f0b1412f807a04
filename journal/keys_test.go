package journal_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/internal/pgtest"
	"github.com/visengine-go/visengine/journal"
	"github.com/visengine-go/visengine/visenginetest"
)

// Two replicas (two clients, each with its own *sql.DB on one PostgreSQL
// journal) submit one applicant under one idempotency key, in sequence
// and then from 8 goroutines split between them: one POST, one charge, one
// richiesta for all. The key's uniqueness is the table's primary key, not
// a read followed by a write; the entry holds an HMAC of the key, never
// the key itself.
func TestPostgresKeyAcrossReplicas(t *testing.T) {
	url := pgtest.Start(t)
	srv := visenginetest.NewServer()
	t.Cleanup(srv.Close)
	var clients [2]*visengine.Client
	var j *journal.Postgres
	for i := range clients {
		p, err := journal.OpenPostgres(ctx, openPool(t, url))
		require.NoError(t, err)
		clients[i], j = srv.Client(visengine.WithJournal(p)), p
	}
	v, err := clients[0].GetVisura(ctx, hashOrdinaria)
	require.NoError(t, err)
	n0 := len(srv.Requests())

	const key = "RSSMRA80A01H501U"
	r1, err := clients[0].Submit(ctx, v, applicantValues(1), visengine.WithIdempotencyKey(key))
	require.NoError(t, err)
	r2, err := clients[1].Submit(ctx, v, applicantValues(1), visengine.WithIdempotencyKey(key))
	require.NoError(t, err)
	assert.Equal(t, r1.ID, r2.ID)

	ids := make([]string, 8)
	errs := make([]error, 8)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r, err := clients[i%2].Submit(ctx, v, applicantValues(2), visengine.WithIdempotencyKey("pratica-2"))
			if err == nil {
				ids[i] = r.ID
			}
			errs[i] = err
		}()
	}
	close(start)
	wg.Wait()
	for i := range ids {
		require.NoError(t, errs[i])
		assert.Equal(t, ids[0], ids[i])
	}
	posts := 0
	for _, r := range srv.Requests()[n0:] {
		if r.Method == "POST" && r.Path == "/richiesta" {
			posts++
		}
	}
	assert.Equal(t, 2, posts, "one POST per key")
	n, _ := srv.Charges()
	assert.Equal(t, 2, n, "one charge per key")

	secret, err := j.DigestSecret(ctx)
	require.NoError(t, err)
	e, err := j.Get(ctx, visengine.IdempotencyRef(secret, key))
	require.NoError(t, err, "the key's entry is found by its keyed Ref")
	assert.Equal(t, visengine.JournalCompleted, e.Outcome)
	assert.Equal(t, r1.ID, e.DraftID)
	assert.NotContains(t, fmt.Sprintf("%+v", e), key)
	assert.NotEqual(t, visengine.JournalDigest(hashOrdinaria, applicantValues(1), nil), e.Digest,
		"the digest is keyed: the values alone do not confirm it")
	assert.Equal(t, visengine.KeyedJournalDigest(secret, hashOrdinaria, applicantValues(1), nil), e.Digest)

	_, err = clients[1].Submit(ctx, v, applicantValues(3), visengine.WithIdempotencyKey(key))
	require.ErrorIs(t, err, visengine.ErrIdempotencyKeyReused)
}

// metered is a journal as a user wraps it for metrics: it embeds
// visengine.Journal and overrides one method.
type metered struct {
	visengine.Journal
	creates atomic.Int32
}

func (m *metered) Create(ctx context.Context, e visengine.JournalEntry) error {
	m.creates.Add(1)
	return m.Journal.Create(ctx, e)
}

// Each journal of this package, wrapped by a user's type, keeps its
// secret and its clock: an idempotency key submitted through the wrapper
// is replayed by a client of the bare journal (one secret), its entry's
// Ref and digest are keyed, and the wrapper tells the journal's time.
func TestWrappedJournalsKeepSecretAndClock(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) visengine.Journal
	}{
		{"dir", func(t *testing.T) visengine.Journal { return openDir(t, t.TempDir()) }},
		{"postgres", func(t *testing.T) visengine.Journal { return openPostgres(t, pgtest.Start(t)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := visenginetest.NewServer()
			t.Cleanup(srv.Close)
			bare := tc.open(t)
			w := &metered{Journal: bare}
			v, err := srv.Client().GetVisura(ctx, hashOrdinaria)
			require.NoError(t, err)
			var first, second visengine.SubmitInfo
			key := visengine.WithIdempotencyKey("pratica-w")
			r1, err := srv.Client(visengine.WithJournal(w)).Submit(ctx, v, applicantValues(1), key, visengine.WithSubmitInfo(&first))
			require.NoError(t, err)
			r2, err := srv.Client(visengine.WithJournal(bare)).Submit(ctx, v, applicantValues(1), key, visengine.WithSubmitInfo(&second))
			require.NoError(t, err)
			assert.Equal(t, r1.ID, r2.ID)
			assert.True(t, second.Replayed)
			n, _ := srv.Charges()
			assert.Equal(t, 1, n)
			assert.EqualValues(t, 1, w.creates.Load())

			secret, err := w.DigestSecret(ctx)
			require.NoError(t, err)
			assert.Equal(t, visengine.IdempotencyRef(secret, "pratica-w"), first.Ref)
			e, err := w.Get(ctx, first.Ref)
			require.NoError(t, err)
			assert.Equal(t, visengine.KeyedJournalDigest(secret, hashOrdinaria, applicantValues(1), nil), e.Digest)
			now, err := w.JournalNow(ctx)
			require.NoError(t, err)
			assert.WithinDuration(t, time.Now(), now, time.Minute)
			assert.WithinDuration(t, now, e.CreatedAt, time.Minute, "on the journal's clock")
		})
	}
}

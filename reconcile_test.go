package visengine

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The cases of a Reconcile that believed too much, each answered
// now by what can be proven.
func TestReconcileExactMatching(t *testing.T) {
	const a2 = "2631ec9b62135de4186f509fea7d954b"
	const idA, idB = "0000000000000000000000a1", "0000000000000000000000b2"
	now := time.Now()
	oursJSON, _ := json.Marshal(map[string]string(validA2Values(t)))
	ours := string(oursJSON)
	draft := `,"state":0`
	ctx := context.Background()
	conclusive := []ReconcileOption{WithReconcileDraft(), WithReconcileSettle(0)}

	t.Run("a read-back with another _id or service is not the one", func(t *testing.T) {
		for name, readBack := range map[string]string{
			"_id":         entry(idB, a2, now.Unix(), ours, draft),
			"hash_visura": entry(idA, "eccbc87e4b5ce2fe28308fd9f2a7baf3", now.Unix(), ours, draft),
		} {
			srv := listServer(t, map[string]string{"l": entry(idA, a2, now.Unix(), ours, draft), idA: readBack}, []string{"l"})
			r, err := newTestClient(t, srv.URL).Reconcile(ctx, a2, validA2Values(t), now, conclusive...)
			assert.Nil(t, r, name)
			require.ErrorIs(t, err, ErrOutcomeUnknown, name)
			assert.NotErrorIs(t, err, ErrNotFound, name)
			assert.Contains(t, err.Error(), idA, name)
		}
	})
	t.Run("an older richiesta with the same values is never taken", func(t *testing.T) {
		old := entry(idB, a2, now.Add(-6*time.Minute).Unix(), ours, draft)
		srv := listServer(t, map[string]string{"old": old, idB: old}, []string{"old"})
		_, err := newTestClient(t, srv.URL).Reconcile(ctx, a2, validA2Values(t), now, conclusive...)
		require.ErrorIs(t, err, ErrNotFound, "created before the POST was sent: not its richiesta")
		assert.EqualValues(t, 1, srv.hits.Load(), "not even read")

		mine := entry(idA, a2, now.Add(time.Second).Unix(), ours, draft)
		srv = listServer(t, map[string]string{"mine": mine, "old": old, idA: mine, idB: old}, []string{"mine", "old"})
		r, err := newTestClient(t, srv.URL).Reconcile(ctx, a2, validA2Values(t), now)
		require.NoError(t, err)
		assert.Equal(t, idA, r.ID)
	})
	t.Run("a stale list is never a conclusive absence of a paid richiesta", func(t *testing.T) {
		// The richiesta exists (it reads) but the list does not show it yet.
		srv := listServer(t, map[string]string{idA: entry(idA, a2, now.Unix(), ours, `,"state":1`)}, nil)
		long := now.Add(-time.Hour)
		_, err := newTestClient(t, srv.URL).Reconcile(ctx, a2, validA2Values(t), long, WithReconcileSettle(0))
		require.ErrorIs(t, err, ErrOutcomeUnknown, "a paid POST's richiesta may not be listed yet")
		assert.NotErrorIs(t, err, ErrNotFound)
		// For a lost draft, absence is safe to act on: a draft is free.
		_, err = newTestClient(t, srv.URL).Reconcile(ctx, a2, validA2Values(t), long, WithReconcileDraft())
		require.ErrorIs(t, err, ErrNotFound)
		assert.Contains(t, err.Error(), "nothing was charged")
	})
	t.Run("an empty or unreadable json_ricerca is unknown, not a mismatch", func(t *testing.T) {
		for name, read := range map[string]string{
			"{}":          entry(idA, a2, now.Unix(), `{}`, draft),
			"empty":       entry(idA, a2, now.Unix(), ``, draft),
			"not JSON":    entry(idA, a2, now.Unix(), `{"$0":`, draft),
			"blanks only": entry(idA, a2, now.Unix(), `{"$0":" "}`, draft),
			"no ricerche": fmt.Sprintf(`{"_id":%q,"hash_visura":%q,"state":0,"ricerche":[]}`, idA, a2),
		} {
			srv := listServer(t, map[string]string{"l": read, idA: read}, []string{"l"})
			_, err := newTestClient(t, srv.URL).Reconcile(ctx, a2, validA2Values(t), now, conclusive...)
			require.ErrorIs(t, err, ErrOutcomeUnknown, name)
			assert.NotErrorIs(t, err, ErrNotFound, name)
			assert.Contains(t, err.Error(), "show no values", name)
		}
	})
	t.Run("duplicate list entries are read once", func(t *testing.T) {
		other := entry(idA, a2, now.Unix(), `{"$0":"Other"}`, draft)
		order := make([]string, 500)
		for i := range order {
			order[i] = "dup"
		}
		srv := listServer(t, map[string]string{"dup": other, idA: other}, order)
		_, err := newTestClient(t, srv.URL).Reconcile(ctx, a2, validA2Values(t), now, conclusive...)
		require.ErrorIs(t, err, ErrNotFound)
		assert.EqualValues(t, 2, srv.hits.Load(), "one list, one read")
	})
	t.Run("reads are bounded; beyond the bound the outcome is unknown", func(t *testing.T) {
		entries, order := map[string]string{}, []string{}
		for i := range 40 {
			id := fmt.Sprintf("%024x", 0xc000+i)
			entries[id] = entry(id, a2, now.Unix(), fmt.Sprintf(`{"$0":"Other %d"}`, i), draft)
			order = append(order, id)
		}
		srv := listServer(t, entries, order)
		_, err := newTestClient(t, srv.URL).Reconcile(ctx, a2, validA2Values(t), now, conclusive...)
		require.ErrorIs(t, err, ErrOutcomeUnknown)
		assert.Contains(t, err.Error(), "15 richieste")
		assert.Contains(t, err.Error(), "left unread")
		assert.EqualValues(t, 1+DefaultReconcileMaxReads, srv.hits.Load())

		srv = listServer(t, entries, order)
		_, err = newTestClient(t, srv.URL).Reconcile(ctx, a2, validA2Values(t), now, append(conclusive, WithReconcileMaxReads(40))...)
		require.ErrorIs(t, err, ErrNotFound, "all 40 read and none is ours")
		assert.EqualValues(t, 41, srv.hits.Load())
	})
	t.Run("the client reference decides before the values", func(t *testing.T) {
		const ref, other = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
		withRef := func(r string) string {
			return `,"state":0,"callback_data":{"url":"https://h.example/x","data":{"visengine_ref":"` + r + `"}}`
		}
		theirs := entry(idA, a2, now.Unix(), ours, withRef(other)) // same values, another submission
		mine := entry(idB, a2, now.Add(time.Second).Unix(), `{}`, withRef(ref))
		srv := listServer(t, map[string]string{"a": theirs, "b": mine, idA: theirs, idB: mine}, []string{"a", "b"})
		r, err := newTestClient(t, srv.URL).Reconcile(ctx, a2, validA2Values(t), now, WithReconcileRef(ref))
		require.NoError(t, err)
		assert.Equal(t, idB, r.ID, "ours by reference, though it shows no values")

		srv = listServer(t, map[string]string{"a": theirs, idA: theirs}, []string{"a"})
		_, err = newTestClient(t, srv.URL).Reconcile(ctx, a2, validA2Values(t), now, append(conclusive, WithReconcileRef(ref))...)
		require.ErrorIs(t, err, ErrNotFound, "another submission's reference, whatever its values")
	})
	t.Run("drafts the journal gives to other submissions are skipped", func(t *testing.T) {
		j := newMemJournal()
		require.NoError(t, j.Create(ctx, JournalEntry{Ref: "0123456789abcdef0123456789abcdef", HashVisura: a2,
			Digest: JournalDigest(a2, validA2Values(t), nil), CreatedAt: now, DraftID: idA, LeaseOwner: "x", LeaseUntil: now.Add(time.Hour)}))
		theirs := entry(idA, a2, now.Unix(), ours, draft) // a resubmission of the same applicant
		srv := listServer(t, map[string]string{"a": theirs, idA: theirs}, []string{"a"})
		_, err := newTestClient(t, srv.URL, WithJournal(j)).Reconcile(ctx, a2, validA2Values(t), now, conclusive...)
		require.ErrorIs(t, err, ErrNotFound)
		assert.EqualValues(t, 1, srv.hits.Load(), "not read")
	})
}

// The order of candidates: those created since the send, earliest first,
// then those within the skew before it, latest first, then those without
// a readable time; each once; other services and older ones left out.
func TestLostCandidatesOrder(t *testing.T) {
	sent := time.Date(2025, 3, 1, 10, 0, 0, 500_000_000, time.UTC)
	at := func(d time.Duration) time.Time { return sent.Truncate(time.Second).Add(d) }
	entries := []listEntry{
		{id: "late", hash: "h", created: at(3 * time.Second)},
		{id: "same-second-newer", hash: "h", created: at(0)},
		{id: "same-second-older", hash: "h", created: at(0)},
		{id: "skew-far", hash: "h", created: at(-50 * time.Second)},
		{id: "skew-near", hash: "h", created: at(-2 * time.Second)},
		{id: "no-time", hash: "h"},
		{id: "too-old", hash: "h", created: at(-2 * time.Minute)},
		{id: "other-service", hash: "x", created: at(time.Second)},
		{id: "late", hash: "h", created: at(3 * time.Second)},
	}
	got := lostCandidates(entries, lostQuery{hash: "h", since: sent, skew: time.Minute})
	assert.Equal(t, []string{"same-second-newer", "same-second-older", "late", "skew-near", "skew-far", "no-time"}, got)
	assert.Equal(t, []string{"same-second-newer", "same-second-older", "late", "no-time"},
		lostCandidates(entries, lostQuery{hash: "h", since: sent}), "no skew: nothing before the send's second")
	assert.Empty(t, strings.Join(lostCandidates(nil, lostQuery{hash: "h", since: sent}), ""))
}

// slowEmptyList is an account whose list of richieste is empty when asked
// and answered late, the first time only: it shows the account as it was
// when the list was sent.
func slowEmptyList(t *testing.T, late time.Duration) (*countingServer, *atomic.Int32) {
	var lists atomic.Int32
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/richiesta" {
			http.NotFound(w, r)
			return
		}
		if lists.Add(1) == 1 {
			time.Sleep(late)
		}
		writeJSON(w, 200, `{"data":[],"success":true,"message":"","error":null}`)
	})
	return srv, &lists
}

// A list sent within the settle time of a lost draft's POST but answered
// after it shows the account as it was before the settle time ended: the
// draft's absence from it is not conclusive.
func TestReconcileJudgesTheSettleTimeWhenTheListStarts(t *testing.T) {
	const settle = 2 * time.Second
	srv, _ := slowEmptyList(t, 1500*time.Millisecond)
	sentAt := time.Now().Add(-settle + time.Second) // the list starts about a second before the settle time ends
	_, err := newTestClient(t, srv.URL).Reconcile(context.Background(), decodeVisura(t, "visura_a2.json").HashVisura,
		validA2Values(t), sentAt, WithReconcileDraft(), WithReconcileSettle(settle))
	assert.NotErrorIs(t, err, ErrNotFound, "the list began within the settle time: %v", err)
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
}

package visengine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// memEntry is a key memory's entry n, unleased, with outcome.
func memEntry(n int, outcome JournalOutcome) JournalEntry {
	return JournalEntry{Ref: fmt.Sprintf("%032x", n), HashVisura: "h", Digest: JournalDigest("h", nil, nil),
		CreatedAt: time.Now(), Outcome: outcome}
}

// A full memory forgets the oldest finished entry each time, passing over
// those under way, which keep their place: creation order holds across
// evictions, whatever they passed.
func TestKeyMemoryEvictsInCreationOrderPastEntriesUnderWay(t *testing.T) {
	ctx := context.Background()
	m := newKeyMemory(4)
	for n, outcome := range []JournalOutcome{JournalUnfinished, JournalCompleted, JournalUnfinished, JournalCompleted} {
		e := memEntry(n+1, outcome)
		e.LeaseOwner, e.LeaseUntil = "o", time.Now().Add(time.Hour)
		require.NoError(t, m.Create(ctx, e))
		require.NoError(t, m.Release(ctx, e.Ref, "o"))
	}
	held := func() []int {
		var ns []int
		for _, ref := range m.order {
			var n int
			_, err := fmt.Sscanf(ref, "%x", &n)
			require.NoError(t, err)
			ns = append(ns, n)
		}
		require.Len(t, m.entries, len(ns))
		return ns
	}
	require.NoError(t, m.Create(ctx, memEntry(5, JournalCompleted))) // forgets 2
	require.Equal(t, []int{1, 3, 4, 5}, held())
	require.NoError(t, m.Create(ctx, memEntry(6, JournalCompleted))) // forgets 4
	require.Equal(t, []int{1, 3, 5, 6}, held())
	done := memEntry(1, JournalCompleted)
	done.LeaseOwner, done.LeaseUntil = "o", time.Now().Add(time.Hour)
	_, err := m.ClaimRef(ctx, done.Ref, "o", done.LeaseUntil)
	require.NoError(t, err)
	done.LeaseUntil = time.Now() // ends the lease with the outcome
	require.NoError(t, m.Update(ctx, done))
	require.NoError(t, m.Create(ctx, memEntry(7, JournalCompleted))) // forgets 1, now finished
	require.Equal(t, []int{3, 5, 6, 7}, held())
	require.NoError(t, m.Create(ctx, memEntry(8, JournalCompleted))) // forgets 5
	require.Equal(t, []int{3, 6, 7, 8}, held())
}

// BenchmarkKeyMemoryFull is a keyed submission's Create in a memory full
// of DefaultKeyMemory finished entries; "stuck" has one under way at the
// front (an outcome never learned), which every eviction passes.
func BenchmarkKeyMemoryFull(b *testing.B) {
	for _, stuck := range []bool{false, true} {
		b.Run(fmt.Sprintf("stuck=%v", stuck), func(b *testing.B) {
			ctx := context.Background()
			m := newKeyMemory(DefaultKeyMemory)
			for n := range DefaultKeyMemory {
				outcome := JournalCompleted
				if stuck && n == 0 {
					outcome = JournalUnfinished
				}
				require.NoError(b, m.Create(ctx, memEntry(n, outcome)))
			}
			es := make([]JournalEntry, 4096)
			for i := range es {
				es[i] = memEntry(1<<40+i, JournalCompleted)
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				e := es[i%len(es)]
				e.Ref = fmt.Sprintf("%032x", 1<<41+i)
				if err := m.Create(ctx, e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Looked up by draft id (Resume) or by several (ListDrafts), the memory
// finds exactly the entries a scan of all of them would, after random
// Creates, Updates that set or change draft ids, and evictions.
func TestKeyMemoryFindsDraftsAsAScanWould(t *testing.T) {
	ctx := context.Background()
	m := newKeyMemory(40)
	rng := rand.New(rand.NewPCG(7, 8))
	var refs []string
	for step := range 800 {
		draft := ""
		if rng.IntN(4) > 0 {
			draft = fmt.Sprintf("draft%d", rng.IntN(12))
		}
		if len(refs) == 0 || rng.IntN(3) == 0 {
			e := memEntry(step, JournalUnfinished)
			e.DraftID = draft
			e.LeaseOwner, e.LeaseUntil = "o", time.Now().Add(time.Hour)
			if err := m.Create(ctx, e); err != nil {
				continue // full of entries under way: nothing to forget
			}
			refs = append(refs, e.Ref)
		} else {
			ref := refs[rng.IntN(len(refs))]
			e, err := m.ClaimRef(ctx, ref, "o", time.Now().Add(time.Hour))
			if err != nil {
				continue // forgotten
			}
			e.DraftID = draft
			if rng.IntN(2) == 0 {
				e.Outcome, e.LeaseUntil = JournalCompleted, time.Now() // ends the lease: it may be forgotten
			}
			require.NoError(t, m.Update(ctx, e))
		}
		id := fmt.Sprintf("draft%d", rng.IntN(12))
		got, err := m.List(ctx, JournalFilter{DraftID: id})
		require.NoError(t, err)
		var want []JournalEntry
		for _, e := range m.entries {
			if e.DraftID == id {
				want = append(want, e)
			}
		}
		sortJournalEntries(want)
		require.Equal(t, want, got, "step %d, %s", step, id)
		got, err = m.ListDrafts(ctx, []string{id, "draft0", id})
		require.NoError(t, err)
		for _, e := range m.entries {
			if e.DraftID == "draft0" && id != "draft0" {
				want = append(want, e)
			}
		}
		require.ElementsMatch(t, want, got, "step %d, ListDrafts", step)
	}
}

// BenchmarkKeyMemoryListDraft is Resume's lookup of a draft in a memory
// full of DefaultKeyMemory entries.
func BenchmarkKeyMemoryListDraft(b *testing.B) {
	ctx := context.Background()
	m := newKeyMemory(DefaultKeyMemory)
	for n := range DefaultKeyMemory {
		e := memEntry(n, JournalCompleted)
		e.DraftID = fmt.Sprintf("draft%d", n)
		require.NoError(b, m.Create(ctx, e))
	}
	for i := 0; b.Loop(); i++ {
		es, err := m.List(ctx, JournalFilter{DraftID: fmt.Sprintf("draft%d", i%DefaultKeyMemory)})
		if err != nil || len(es) != 1 {
			b.Fatal(err, len(es))
		}
	}
}

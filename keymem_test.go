package visengine

import (
	"context"
	"fmt"
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

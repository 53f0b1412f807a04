package journal

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/visengine-go/visengine"
)

// keepOldest keeps what sorting every entry and taking the first max
// would: checked against that on shuffled entries, some created at the
// same time (ordered by Ref then), for max below, at and above their number.
func TestKeepOldestMatchesSortingThemAll(t *testing.T) {
	base := time.Now()
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		n := 1 + rng.IntN(40)
		es := make([]visengine.JournalEntry, n)
		for i := range es {
			es[i] = visengine.JournalEntry{Ref: fmt.Sprintf("%032x", rng.IntN(1000)+1000*i), CreatedAt: base.Add(time.Duration(rng.IntN(8)) * time.Second)}
		}
		for _, max := range []int{1, 3, 10, n, n + 5} {
			var got []visengine.JournalEntry
			for _, e := range es {
				got = keepOldest(got, e, max)
			}
			want := slices.Clone(es)
			sortEntries(want)
			want = want[:min(max, n)]
			if !slices.EqualFunc(got, want, func(a, b visengine.JournalEntry) bool { return a.Ref == b.Ref }) {
				t.Fatalf("round %d, max %d: got %v, want %v", round, max, refsOf(got), refsOf(want))
			}
		}
	}
}

func refsOf(es []visengine.JournalEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Ref
	}
	return out
}

// openUnfinished returns a Dir holding n unfinished entries, free, created
// a nanosecond apart.
func openUnfinished(b *testing.B, n int) *Dir {
	d, err := OpenDir(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = d.Close() })
	ctx, now := context.Background(), time.Now()
	for i := range n {
		e := visengine.JournalEntry{Ref: fmt.Sprintf("%032x", i), HashVisura: "abc", Digest: fmt.Sprintf("%064x", i),
			CreatedAt: now.Add(time.Duration(i)), LeaseOwner: "o", LeaseUntil: now.Add(time.Hour)}
		if err := d.Create(ctx, e); err != nil {
			b.Fatal(err)
		}
		if err := d.Release(ctx, e.Ref, "o"); err != nil {
			b.Fatal(err)
		}
	}
	return d
}

// BenchmarkDirClaim is Recover's Claim of ten entries from a Dir holding
// n unfinished ones ("one"); "drain" claims ten at a time, keeping them,
// until none is left, as Recover does when every entry stays unfinished
// (ms/drain).
func BenchmarkDirClaim(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1_000, 5_000} {
		b.Run(fmt.Sprintf("one/unfinished=%d", n), func(b *testing.B) {
			d := openUnfinished(b, n)
			for b.Loop() {
				es, err := d.Claim(ctx, "r", time.Now().Add(time.Hour), 10)
				if err != nil || len(es) != 10 {
					b.Fatal(err, len(es))
				}
				for _, e := range es {
					if err := d.Release(ctx, e.Ref, "r"); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
		b.Run(fmt.Sprintf("drain/unfinished=%d", n), func(b *testing.B) {
			var spent time.Duration
			for b.Loop() {
				b.StopTimer()
				d := openUnfinished(b, n)
				b.StartTimer()
				start, got := time.Now(), 0
				for {
					es, err := d.Claim(ctx, "r", time.Now().Add(time.Hour), 10)
					if err != nil {
						b.Fatal(err)
					}
					if len(es) == 0 {
						break
					}
					got += len(es)
				}
				spent += time.Since(start)
				if got != n {
					b.Fatalf("claimed %d of %d", got, n)
				}
			}
			b.ReportMetric(float64(spent.Milliseconds())/float64(b.N), "ms/drain")
		})
	}
}

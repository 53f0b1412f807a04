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

// After any sequence of writes, each entry is under its own keys in the
// Dir's index, once, and under no other: checked after random Creates
// and Updates that change draft ids, digests and outcomes, or keep them.
func TestDirIndexFollowsEveryWrite(t *testing.T) {
	d, err := OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx, rng := context.Background(), rand.New(rand.NewPCG(3, 4))
	outcomes := []visengine.JournalOutcome{visengine.JournalUnfinished, visengine.JournalCompleted, visengine.JournalFailed}
	var refs []string
	for step := range 600 {
		e := visengine.JournalEntry{HashVisura: "abc", Digest: fmt.Sprintf("%064x", rng.IntN(3)), CreatedAt: time.Now(),
			LeaseOwner: "o", LeaseUntil: time.Now().Add(time.Hour)}
		if rng.IntN(4) > 0 {
			e.DraftID = fmt.Sprintf("draft%d", rng.IntN(8))
		}
		e.Outcome = outcomes[rng.IntN(len(outcomes))]
		if len(refs) == 0 || rng.IntN(3) == 0 {
			e.Ref = fmt.Sprintf("%032x", step)
			e.Outcome = visengine.JournalUnfinished
			if err := d.Create(ctx, e); err != nil {
				t.Fatal(err)
			}
			refs = append(refs, e.Ref)
		} else {
			cur := d.entries[refs[rng.IntN(len(refs))]]
			e.Ref, e.CreatedAt = cur.Ref, cur.CreatedAt
			if rng.IntN(2) == 0 { // keep the keys, as most Updates do
				e.Digest, e.DraftID = cur.Digest, cur.DraftID
			}
			if err := d.Update(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		checkDirIndex(t, d)
	}
}

// checkDirIndex fails t unless d's index holds exactly its entries' keys.
func checkDirIndex(t *testing.T, d *Dir) {
	t.Helper()
	drafts, digests, unfinished := 0, 0, 0
	for ref, e := range d.entries {
		if e.DraftID != "" {
			drafts++
			if n := count(d.idx.drafts[e.DraftID], ref); n != 1 {
				t.Fatalf("%s under its draft id %d times", ref, n)
			}
		}
		digests++
		if n := count(d.idx.digests[e.Digest], ref); n != 1 {
			t.Fatalf("%s under its digest %d times", ref, n)
		}
		if _, ok := d.idx.unfinished[ref]; ok != !e.Finished() {
			t.Fatalf("%s among the unfinished: %v, finished: %v", ref, ok, e.Finished())
		}
		if !e.Finished() {
			unfinished++
		}
	}
	if n := total(d.idx.drafts); n != drafts {
		t.Fatalf("%d refs under draft ids, want %d", n, drafts)
	}
	if n := total(d.idx.digests); n != digests {
		t.Fatalf("%d refs under digests, want %d", n, digests)
	}
	if len(d.idx.unfinished) != unfinished {
		t.Fatalf("%d refs among the unfinished, want %d", len(d.idx.unfinished), unfinished)
	}
}

func count(refs []string, ref string) int {
	n := 0
	for _, r := range refs {
		if r == ref {
			n++
		}
	}
	return n
}

func total(m map[string][]string) int {
	n := 0
	for _, refs := range m {
		n += len(refs)
	}
	return n
}

// BenchmarkDirUpdateSharedDigest is an Update (a note: nothing to sync) of
// an entry whose digest n other entries share, as every submission of the
// same service and values does (a load test repeating one applicant).
func BenchmarkDirUpdateSharedDigest(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("sharing=%d", n), func(b *testing.B) {
			d, err := OpenDir(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			ctx, now := context.Background(), time.Now()
			digest := fmt.Sprintf("%064x", 7)
			var e visengine.JournalEntry
			for i := range n + 1 {
				e = visengine.JournalEntry{Ref: fmt.Sprintf("%032x", i), HashVisura: "abc", Digest: digest, CreatedAt: now,
					LeaseOwner: "o", LeaseUntil: now.Add(time.Hour)}
				if err := d.Create(ctx, e); err != nil {
					b.Fatal(err)
				}
			}
			for i := 0; b.Loop(); i++ {
				e.Note = fmt.Sprintf("n%d", i&7)
				if err := d.Update(ctx, e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

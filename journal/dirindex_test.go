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

// Claim takes what sorting every free unfinished entry and taking the
// first max would: checked on Dirs of shuffled entries, some created at
// the same time (ordered by Ref then), some finished, some leased to
// another, some re-dated, for max below, at and above their number.
func TestDirClaimMatchesSortingThemAll(t *testing.T) {
	ctx, base := context.Background(), time.Now()
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 60 {
		d, err := OpenDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		var free []visengine.JournalEntry
		for i := range 1 + rng.IntN(40) {
			e := visengine.JournalEntry{Ref: fmt.Sprintf("%032x", rng.IntN(1000)+1000*i), HashVisura: "abc",
				Digest: fmt.Sprintf("%064x", i), CreatedAt: base.Add(time.Duration(rng.IntN(8)) * time.Second),
				LeaseOwner: "o", LeaseUntil: base.Add(time.Hour)}
			if err := d.Create(ctx, e); err != nil {
				t.Fatal(err)
			}
			switch rng.IntN(5) {
			case 0: // finished
				e.Outcome = visengine.JournalCompleted
				if err := d.Update(ctx, e); err != nil {
					t.Fatal(err)
				}
				continue
			case 1: // held by another
				continue
			case 2: // re-dated: its first key goes stale
				e.CreatedAt = e.CreatedAt.Add(-time.Duration(rng.IntN(8)) * time.Second)
				if err := d.Update(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			if err := d.Release(ctx, e.Ref, "o"); err != nil {
				t.Fatal(err)
			}
			stored, _ := d.Get(ctx, e.Ref)
			free = append(free, stored)
		}
		sortEntries(free)
		max := 1 + rng.IntN(len(free)+5)
		got, err := d.Claim(ctx, "claimer", base.Add(time.Hour), max)
		if err != nil {
			t.Fatal(err)
		}
		want := free[:min(max, len(free))]
		if !slices.EqualFunc(got, want, func(a, b visengine.JournalEntry) bool { return a.Ref == b.Ref }) {
			t.Fatalf("round %d, max %d: got %v, want %v", round, max, refsOf(got), refsOf(want))
		}
		checkDirIndex(t, d)
		_ = d.Close()
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

// drain claims d's unfinished entries ten at a time, as Recover does,
// until none is left, and returns how many it claimed: it keeps them
// leased, or, when resolve, records each completed before the next Claim.
func drain(b *testing.B, d *Dir, resolve bool) int {
	ctx, got := context.Background(), 0
	for {
		es, err := d.Claim(ctx, "r", time.Now().Add(time.Hour), 10)
		if err != nil {
			b.Fatal(err)
		}
		if len(es) == 0 {
			return got
		}
		got += len(es)
		for _, e := range es {
			if resolve {
				e.Outcome = visengine.JournalCompleted
				if err := d.Update(ctx, e); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}

// BenchmarkDirClaim is Recover's Claim of ten entries from a Dir holding
// n unfinished ones ("one"), and Recover's whole loop of Claims (ms/drain)
// when every entry stays unfinished, leased to it ("drain"), and when each
// is completed ("resolve": a completed outcome is not synced).
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
		for _, resolve := range []bool{false, true} {
			name := map[bool]string{false: "drain", true: "resolve"}[resolve]
			b.Run(fmt.Sprintf("%s/unfinished=%d", name, n), func(b *testing.B) {
				var spent time.Duration
				for b.Loop() {
					b.StopTimer()
					d := openUnfinished(b, n)
					b.StartTimer()
					start := time.Now()
					if got := drain(b, d, resolve); got != n {
						b.Fatalf("claimed %d of %d", got, n)
					}
					spent += time.Since(start)
				}
				b.ReportMetric(float64(spent.Microseconds())/float64(b.N)/1000, "ms/drain")
			})
		}
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
	live := 0
	for i, k := range d.idx.byAge {
		if i > 0 && compareAge(d.idx.byAge[i-1], k) >= 0 {
			t.Fatalf("byAge out of order at %d", i)
		}
		if d.idx.live(k) {
			live++
		}
	}
	if live != unfinished {
		t.Fatalf("%d live keys in byAge, want one per unfinished entry (%d)", live, unfinished)
	}
}

// The keys of finished entries do not pile up in byAge: once they
// outnumber the live ones by staleAgeKeys, the next intent sweeps them.
func TestDirSweepsStaleAgeKeys(t *testing.T) {
	d, err := OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	for i := range 3 * staleAgeKeys {
		e := visengine.JournalEntry{Ref: fmt.Sprintf("%032x", i), HashVisura: "abc", Digest: fmt.Sprintf("%064x", i),
			CreatedAt: time.Now(), LeaseOwner: "o", LeaseUntil: time.Now().Add(time.Hour)}
		if err := d.Create(ctx, e); err != nil {
			t.Fatal(err)
		}
		if n, live := len(d.idx.byAge), len(d.idx.unfinished); n > 2*live+staleAgeKeys {
			t.Fatalf("after intent %d byAge holds %d keys for %d unfinished entries", i, n, live)
		}
		if i%10 > 0 { // a tenth stay unfinished
			e.Outcome = visengine.JournalCompleted
			if err := d.Update(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	checkDirIndex(t, d)
	if n := len(d.idx.byAge); n > 2*len(d.idx.unfinished)+staleAgeKeys+2 {
		t.Fatalf("byAge holds %d keys for %d unfinished entries", n, len(d.idx.unfinished))
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

// A Dir opened again indexes what it reads as its writes did: its
// unfinished entries in list order, whatever order they were written in.
func TestDirIndexAfterReopen(t *testing.T) {
	dir, ctx, base := t.TempDir(), context.Background(), time.Now()
	d, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 10))
	for i := range 300 {
		e := visengine.JournalEntry{Ref: fmt.Sprintf("%032x", i), HashVisura: "abc", Digest: fmt.Sprintf("%064x", i%7),
			CreatedAt: base.Add(time.Duration(rng.IntN(50)) * time.Second), LeaseOwner: "o", LeaseUntil: base.Add(time.Hour)}
		if i%4 == 0 {
			e.DraftID = fmt.Sprintf("draft%d", i)
		}
		if err := d.Create(ctx, e); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			e.Outcome = visengine.JournalCompleted
			if err := d.Update(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := refsOf(d.claimOrder())
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if d, err = OpenDir(dir); err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	checkDirIndex(t, d)
	if got := refsOf(d.claimOrder()); !slices.Equal(got, want) {
		t.Fatalf("unfinished entries in another order after reopening")
	}
}

// claimOrder is d's unfinished entries in the order Claim takes them.
func (d *Dir) claimOrder() []visengine.JournalEntry {
	var out []visengine.JournalEntry
	d.idx.eachUnfinished(d.entries, func(e visengine.JournalEntry) bool {
		out = append(out, e)
		return true
	})
	return out
}

// BenchmarkOpenDirUnfinished opens a Dir holding n unfinished entries
// (its index included).
func BenchmarkOpenDirUnfinished(b *testing.B) {
	for _, n := range []int{10_000, 50_000} {
		b.Run(fmt.Sprintf("unfinished=%d", n), func(b *testing.B) {
			d := openUnfinished(b, n)
			path := d.path
			if err := d.Close(); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				d, err := OpenDir(path)
				if err != nil {
					b.Fatal(err)
				}
				_ = d.Close()
			}
		})
	}
}

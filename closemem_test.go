package visengine

import (
	"strconv"
	"testing"
	"time"
)

// fillCloses remembers n closes of ids prefix0… sent at t.
func fillCloses(m *closeMemory, prefix string, n int, t time.Time) {
	for i := range n {
		m.remember(prefix+strconv.Itoa(i), t)
	}
}

// A memory holding more closes within their settle time than its bound
// keeps every one of them (forgetting one would let a Resume close that
// draft again too soon), and reads them all in search of closes to forget
// only once it has doubled, not at every close: at one look per close, a
// benchmark's client past 65,536 closes in two minutes spent a quarter of
// its CPU there and its throughput fell sixfold.
func TestCloseMemoryFullOfUnsettledClosesLooksOncePerDoubling(t *testing.T) {
	m := newCloseMemory(time.Hour)
	now := time.Now()
	fillCloses(m, "a", maxRememberedCloses, now)
	if m.prunes != 0 {
		t.Fatalf("%d looks below the bound, want 0", m.prunes)
	}
	fillCloses(m, "b", maxRememberedCloses, now)
	if m.prunes != 1 {
		t.Fatalf("%d looks for %d closes beyond the bound, want 1", m.prunes, maxRememberedCloses)
	}
	if n := len(m.sent); n != 2*maxRememberedCloses {
		t.Fatalf("remembers %d closes, want all %d (none has settled)", n, 2*maxRememberedCloses)
	}
	for _, id := range []string{"a0", "a65535", "b0", "b65535"} {
		if m.last(id).IsZero() {
			t.Fatalf("close of %s forgotten within its settle time", id)
		}
	}
	m.remember("c", now)
	if m.prunes != 2 {
		t.Fatalf("%d looks once doubled, want 2", m.prunes)
	}
}

// Closes whose settle time has passed are forgotten at the next look, and
// the memory then looks again after the bound's worth of closes.
func TestCloseMemoryForgetsSettledCloses(t *testing.T) {
	m := newCloseMemory(time.Minute)
	fillCloses(m, "old", maxRememberedCloses, time.Now().Add(-2*time.Minute))
	m.remember("new", time.Now())
	if m.prunes != 1 || len(m.sent) != 1 || m.last("new").IsZero() || !m.last("old0").IsZero() {
		t.Fatalf("after a look: %d looks, %d closes remembered; want 1 look and only the new close", m.prunes, len(m.sent))
	}
	fillCloses(m, "more", maxRememberedCloses-2, time.Now())
	if m.prunes != 1 {
		t.Fatalf("%d looks below the bound again, want 1", m.prunes)
	}
}

// BenchmarkCloseMemoryFull is a close remembered by a memory already
// holding twice its bound of closes within their settle time.
func BenchmarkCloseMemoryFull(b *testing.B) {
	m := newCloseMemory(time.Hour)
	now := time.Now()
	fillCloses(m, "a", 2*maxRememberedCloses-1, now)
	ids := make([]string, 4096)
	for i := range ids {
		ids[i] = "z" + strconv.Itoa(i)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		m.remember(ids[i%len(ids)], now)
	}
}

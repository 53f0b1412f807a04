package visenginetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// The late applies stay in due order, and those due at the same time in
// the order they came, whatever order they are added in: checked against
// a stable sort of the same.
func TestInsertLateKeepsDueOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	base := time.Now()
	var late, all []*lateApply
	for range 500 {
		l := &lateApply{due: base.Add(time.Duration(rng.IntN(20)) * time.Millisecond)}
		late = insertLate(late, l)
		all = append(all, l)
	}
	want := slices.Clone(all)
	slices.SortStableFunc(want, func(a, b *lateApply) int { return a.due.Compare(b.due) })
	if !slices.Equal(late, want) {
		t.Fatal("late applies out of due order, or equal dues out of arrival order")
	}
}

// Each due apply runs once, in due order, and leaves the list; those not
// yet due stay, whoever calls applyDue and however often.
func TestApplyDueRunsTheDueOnesOnceInOrder(t *testing.T) {
	s := NewUnstartedServer()
	now := time.Now()
	var ran []int
	for i, after := range []time.Duration{-3, -1, -2, time.Hour, -1, time.Hour} {
		s.late = insertLate(s.late, &lateApply{due: now.Add(after * time.Millisecond), run: func() { ran = append(ran, i) }})
	}
	s.applyDue()
	s.applyDue()
	if want := []int{0, 2, 1, 4}; !slices.Equal(ran, want) {
		t.Fatalf("ran %v, want %v", ran, want)
	}
	if len(s.late) != 2 {
		t.Fatalf("%d left pending, want the 2 not yet due", len(s.late))
	}
}

// BenchmarkApplyDue is what each request to the fake pays first while n
// ApplyAfter requests are pending: "idle" with none due, "batch" one call
// that finds half of them due at once (timers run late on a loaded
// machine).
func BenchmarkApplyDue(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("idle/pending=%d", n), func(b *testing.B) {
			s := NewUnstartedServer()
			far := time.Now().Add(time.Hour)
			for range n {
				s.late = insertLate(s.late, &lateApply{due: far, run: func() {}})
			}
			for b.Loop() {
				s.applyDue()
			}
		})
		b.Run(fmt.Sprintf("batch/pending=%d", n), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				s := NewUnstartedServer()
				past, far := time.Now().Add(-time.Second), time.Now().Add(time.Hour)
				for j := range n {
					due := far
					if j%2 == 0 {
						due = past
					}
					s.late = insertLate(s.late, &lateApply{due: due, run: func() {}})
				}
				b.StartTimer()
				s.applyDue()
			}
		})
	}
}

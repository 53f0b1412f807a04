package oauthfake

import (
	"slices"
	"testing"
)

// NewestFirst gives what reversing the whole ledger and cutting the page
// out of it gives, for every skip and limit around its length, including
// the values the handler never passes (negative ones).
func TestNewestFirstIsThePageOfTheReversedLedger(t *testing.T) {
	for n := range 7 {
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		for skip := -1; skip <= n+1; skip++ {
			for limit := -1; limit <= n+1; limit++ {
				want := slices.Clone(all)
				slices.Reverse(want)
				want = want[min(max(skip, 0), n):]
				want = want[:min(max(limit, 0), len(want))]
				if got := NewestFirst(all, skip, limit); !slices.Equal(got, want) {
					t.Fatalf("n %d, skip %d, limit %d: got %v, want %v", n, skip, limit, got, want)
				}
			}
		}
	}
	all := []int{1, 2, 3}
	NewestFirst(all, 0, 3)[0] = 9
	if all[2] != 3 {
		t.Fatal("the page shares the ledger's array")
	}
}

package scrub

import "testing"

func TestReplaceFold(t *testing.T) {
	for _, tc := range []struct{ s, old, want string }{
		{"codice RSSMRA80A01H501U errato", "rssmra80a01h501u", "codice [x] errato"},
		{"a@B.it and A@b.IT", "a@b.it", "[x] and [x]"},
		{"nothing here", "secret", "nothing here"},
		{"short", "longer than s", "short"},
		{"empty old", "", "empty old"},
		{"İstanbul İ", "İ", "[x]stanbul [x]"}, // lowering changes lengths: exact matching
	} {
		if got := ReplaceFold(tc.s, tc.old, "[x]"); got != tc.want {
			t.Errorf("ReplaceFold(%q, %q) = %q, want %q", tc.s, tc.old, got, tc.want)
		}
	}
}

package journal

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/visengine-go/visengine"
)

// FuzzReplayLog feeds arbitrary bytes to the log reader, as a journal.log
// after a crash or damage: it must apply good records only, report a bad
// one only when a good one follows it (without quoting it), keep a prefix
// of the log that reads back as the same records, and never panic.
func FuzzReplayLog(f *testing.F) {
	e := visengine.JournalEntry{
		Ref: "0123456789abcdef0123456789abcdef", HashVisura: "2631ec9b62135de4186f509fea7d954b",
		Digest:    visengine.JournalDigest("2631ec9b62135de4186f509fea7d954b", visengine.Values{"$0": "x"}, nil),
		CreatedAt: time.Date(2025, 3, 1, 9, 0, 0, 123456000, time.UTC), UpdatedAt: time.Date(2025, 3, 1, 9, 0, 1, 0, time.UTC),
	}
	one := appendRecord(nil, e)
	e.DraftID, e.Outcome, e.Note = "65f1c0ffee0123456789abcd", visengine.JournalCompleted, "closed ✓"
	two := appendRecord(bytes.Clone(one), e)
	f.Add(two)
	f.Add(append(bytes.Clone(two), two[:30]...))         // cut short
	f.Add(append(bytes.Clone(one), make([]byte, 64)...)) // zeros after a power cut
	f.Add(append([]byte("00000000 {}\n"), one...))       // damage before a good record
	f.Add(bytes.Replace(two, []byte(`"v":1`), []byte(`"v":2`), 1))
	f.Add([]byte("\n\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var applied []visengine.JournalEntry
		good, n, err := replayLog("journal.log", data, func(e visengine.JournalEntry) { applied = append(applied, e) })
		if err != nil {
			if _, ok := err.(*CorruptEntryError); !ok {
				t.Fatalf("error %T, not a *CorruptEntryError", err)
			}
			for _, word := range bytes.FieldsFunc(data, func(r rune) bool { return r < '0' || r > 'z' }) {
				if len(word) >= 12 && strings.Contains(err.Error(), string(word)) && !strings.Contains(knownWords+" journal.log", string(word)) {
					t.Fatalf("error %q quotes %q from the input", err, word)
				}
			}
			return
		}
		if n != len(applied) || good < 0 || good > int64(len(data)) {
			t.Fatalf("%d records, %d applied, %d good bytes of %d", n, len(applied), good, len(data))
		}
		for _, e := range applied {
			if verr := e.Validate(); verr != nil {
				t.Fatalf("applied an invalid entry: %v", verr)
			}
		}
		var again []visengine.JournalEntry
		good2, _, err := replayLog("journal.log", data[:good], func(e visengine.JournalEntry) { again = append(again, e) })
		if err != nil || good2 != good || len(again) != len(applied) {
			t.Fatalf("the kept prefix does not read back the same: %v, %d of %d bytes, %d of %d records", err, good2, good, len(again), len(applied))
		}
	})
}

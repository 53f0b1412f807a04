package journal

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/visengine-go/visengine"
)

// FuzzDecodeEntry feeds arbitrary bytes to the entry file decoder: it must
// return an entry that is valid and survives a write and a read unchanged,
// or an error that does not quote the input; never panic.
func FuzzDecodeEntry(f *testing.F) {
	e := visengine.JournalEntry{
		Ref: "0123456789abcdef0123456789abcdef", HashVisura: "2631ec9b62135de4186f509fea7d954b",
		Digest:    visengine.JournalDigest("2631ec9b62135de4186f509fea7d954b", visengine.Values{"$0": "x"}, nil),
		CreatedAt: time.Date(2025, 3, 1, 9, 0, 0, 123456000, time.UTC), UpdatedAt: time.Date(2025, 3, 1, 9, 0, 1, 0, time.UTC),
	}
	f.Add(encodeEntry(e))
	e.DraftID, e.CloseSentAt, e.Outcome, e.Note = "65f1c0ffee0123456789abcd", e.UpdatedAt, visengine.JournalCompleted, "closed ✓"
	f.Add(encodeEntry(e))
	f.Add([]byte(`{"v":1,"ref":12}`))
	f.Add([]byte(`{"v":1,"created_at":"2025-13-01T00:00:00Z"}`))
	f.Add([]byte(`{"v":1,"ref":"0123456789abcdef0123456789abcdef","note":"\u0000"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := decodeEntry(data)
		if err != nil {
			msg := err.Error()
			if len(data) >= 8 && strings.Contains(msg, string(data)) {
				t.Fatalf("error %q quotes the input", msg)
			}
			for _, word := range bytes.FieldsFunc(data, func(r rune) bool { return r < '0' || r > 'z' }) {
				if len(word) >= 12 && strings.Contains(msg, string(word)) && !strings.Contains(knownWords, string(word)) {
					t.Fatalf("error %q quotes %q from the input", msg, word)
				}
			}
			return
		}
		if verr := got.Validate(); verr != nil {
			t.Fatalf("decoded an invalid entry: %v", verr)
		}
		again, err := decodeEntry(encodeEntry(got))
		if err != nil {
			t.Fatalf("re-reading a decoded entry: %v", err)
		}
		if again != got {
			t.Fatalf("round trip changed the entry:\n%v\n%v", got, again)
		}
	})
}

// knownWords are the decoder's own words, which its errors may contain
// whatever the input.
const knownWords = "created_at close_sent_at updated_at hash_visura lowercase HashVisura CloseSentAt LeaseOwner LeaseUntil"

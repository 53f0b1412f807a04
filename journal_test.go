package visengine

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const a2Hash = "2631ec9b62135de4186f509fea7d954b"

// The digest is pinned to the documented v1 form, written out by hand
// here, so that a change of encoding cannot pass unnoticed: replicas on
// different SDK versions must agree.
func TestJournalDigestIsTheDocumentedV1Form(t *testing.T) {
	got := JournalDigest(a2Hash, Values{"$1": " Mario ", "$0": "Rossi", "$5": "  "}, []string{"opzione_1", "opzione_0", "opzione_1", " "})
	canonical := "v1\n" +
		"hash 32:" + a2Hash + "\n" +
		"value 2:$0 5:Rossi\n" +
		"value 2:$1 5:Mario\n" +
		"option 9:opzione_0\n" +
		"option 9:opzione_1\n"
	sum := sha256.Sum256([]byte(canonical))
	assert.Equal(t, hex.EncodeToString(sum[:]), got)
	assert.Regexp(t, `^[0-9a-f]{64}$`, got)
}

func TestJournalDigestIgnoresOrderAndBlanks(t *testing.T) {
	base := JournalDigest(a2Hash, Values{"$0": "Rossi", "$1": "Mario"}, []string{"opzione_0", "opzione_2"})
	same := []struct {
		name    string
		values  Values
		opzioni []string
	}{
		{"values built in another order", func() Values {
			v := Values{}
			v.Set("$1", "Mario")
			v.Set("$0", "Rossi")
			return v
		}(), []string{"opzione_0", "opzione_2"}},
		{"blank and empty values", Values{"$0": "Rossi", "$1": "Mario", "$2": "", "$3": " \t\n"}, []string{"opzione_0", "opzione_2"}},
		{"surrounding blanks", Values{"$0": "\tRossi ", "$1": " Mario\n"}, []string{"opzione_0", "opzione_2"}},
		{"options reordered and repeated", Values{"$0": "Rossi", "$1": "Mario"}, []string{"opzione_2", "opzione_0", "opzione_2", ""}},
		{"options with blanks", Values{"$0": "Rossi", "$1": "Mario"}, []string{" opzione_0", "opzione_2 "}},
	}
	for _, tc := range same {
		assert.Equal(t, base, JournalDigest(a2Hash, tc.values, tc.opzioni), tc.name)
	}
}

func TestJournalDigestChangesWithAnyValue(t *testing.T) {
	base := JournalDigest(a2Hash, Values{"$0": "Rossi", "$1": "Mario"}, []string{"opzione_0"})
	differ := []struct {
		name    string
		hash    string
		values  Values
		opzioni []string
	}{
		{"another value", a2Hash, Values{"$0": "Rossi", "$1": "Maria"}, []string{"opzione_0"}},
		{"case of a value", a2Hash, Values{"$0": "ROSSI", "$1": "Mario"}, []string{"opzione_0"}},
		{"inner blank", a2Hash, Values{"$0": "Ros si", "$1": "Mario"}, []string{"opzione_0"}},
		{"values swapped between keys", a2Hash, Values{"$0": "Mario", "$1": "Rossi"}, []string{"opzione_0"}},
		{"a value more", a2Hash, Values{"$0": "Rossi", "$1": "Mario", "$2": "x"}, []string{"opzione_0"}},
		{"a value less", a2Hash, Values{"$0": "Rossi"}, []string{"opzione_0"}},
		{"another option", a2Hash, Values{"$0": "Rossi", "$1": "Mario"}, []string{"opzione_1"}},
		{"no option", a2Hash, Values{"$0": "Rossi", "$1": "Mario"}, nil},
		{"another service", "0000ec9b62135de4186f509fea7d954b", Values{"$0": "Rossi", "$1": "Mario"}, []string{"opzione_0"}},
		// Without length prefixes these two would write the same bytes.
		{"a value that looks like two", a2Hash, Values{"$0": "Rossi\nvalue 2:$1 5:Mario"}, []string{"opzione_0"}},
		{"an option that looks like a value", a2Hash, Values{"$0": "Rossi"}, []string{"opzione_0\nvalue 2:$1 5:Mario"}},
	}
	seen := map[string]string{base: "base"}
	for _, tc := range differ {
		d := JournalDigest(tc.hash, tc.values, tc.opzioni)
		if prev, dup := seen[d]; dup {
			t.Errorf("%s: same digest as %s", tc.name, prev)
		}
		seen[d] = tc.name
	}
}

func TestNewJournalRef(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		ref, err := NewJournalRef()
		require.NoError(t, err)
		require.Regexp(t, `^[0-9a-f]{32}$`, ref)
		require.False(t, seen[ref], "repeated ref")
		seen[ref] = true
		require.NoError(t, JournalEntry{Ref: ref, HashVisura: a2Hash, Digest: JournalDigest(a2Hash, nil, nil), CreatedAt: time.Now()}.Validate())
	}
}

func validJournalEntry() JournalEntry {
	return JournalEntry{
		Ref:        "0123456789abcdef0123456789abcdef",
		HashVisura: a2Hash,
		Digest:     JournalDigest(a2Hash, Values{"$0": "RSSMRA85M01H501Q"}, nil),
		CreatedAt:  time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC),
	}
}

func TestJournalEntryValidate(t *testing.T) {
	require.NoError(t, validJournalEntry().Validate())
	full := validJournalEntry()
	full.DraftID, full.CloseSentAt, full.Outcome, full.Note = "65f1c0ffee0123456789abcd", time.Now(), JournalCompleted, "closed: état 1 ✓"
	full.UpdatedAt, full.LeaseOwner, full.LeaseUntil = time.Now(), "host-1/4242", time.Now().Add(time.Minute)
	require.NoError(t, full.Validate())

	secret := "RSSMRA85M01H501Q"
	bad := []struct {
		field string
		edit  func(*JournalEntry)
	}{
		{"Ref", func(e *JournalEntry) { e.Ref = "" }},
		{"Ref", func(e *JournalEntry) { e.Ref = "0123456789ABCDEF0123456789ABCDEF" }},
		{"Ref", func(e *JournalEntry) { e.Ref = "../../etc/passwd" }},
		{"Ref", func(e *JournalEntry) { e.Ref = secret }},
		{"HashVisura", func(e *JournalEntry) { e.HashVisura = "" }},
		{"HashVisura", func(e *JournalEntry) { e.HashVisura = "a2/" + secret }},
		{"Digest", func(e *JournalEntry) { e.Digest = secret }},
		{"Digest", func(e *JournalEntry) { e.Digest = e.Digest[:63] + "G" }},
		{"CreatedAt", func(e *JournalEntry) { e.CreatedAt = time.Time{} }},
		{"CreatedAt", func(e *JournalEntry) { e.CreatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"DraftID", func(e *JournalEntry) { e.DraftID = "id with " + secret }},
		{"DraftID", func(e *JournalEntry) { e.DraftID = string(bytes.Repeat([]byte("a"), 129)) }},
		{"CloseSentAt", func(e *JournalEntry) { e.CloseSentAt = time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC) }},
		{"Outcome", func(e *JournalEntry) { e.Outcome = JournalOutcome(secret) }},
		{"Note", func(e *JournalEntry) { e.Note = "line\n" + secret }},
		{"Note", func(e *JournalEntry) { e.Note = string(bytes.Repeat([]byte("a"), 1025)) }},
		{"Note", func(e *JournalEntry) { e.Note = "\xff" + secret }},
		{"LeaseOwner", func(e *JournalEntry) { e.LeaseOwner = "owner\x00" + secret }},
	}
	for _, tc := range bad {
		e := validJournalEntry()
		tc.edit(&e)
		err := e.Validate()
		require.ErrorIs(t, err, ErrInvalidArgument, tc.field)
		assert.Contains(t, err.Error(), "journal entry "+tc.field+" ", tc.field)
		assert.NotContains(t, err.Error(), secret, tc.field)
	}
}

func TestJournalEntryFormat(t *testing.T) {
	e := validJournalEntry()
	e.DraftID, e.Note, e.LeaseOwner = "65f1c0ffee0123456789abcd", `close answered 504 "gateway"`, "host-1"
	e.LeaseUntil = time.Date(2025, 3, 1, 10, 5, 0, 0, time.UTC)
	want := `visengine.JournalEntry{Ref:0123456789abcdef0123456789abcdef HashVisura:2631ec9b62135de4186f509fea7d954b ` +
		`Digest:` + e.Digest[:8] + `… CreatedAt:2025-03-01T10:00:00Z DraftID:65f1c0ffee0123456789abcd Outcome:unfinished ` +
		`Note:"close answered 504 \"gateway\"" Lease:host-1 until 2025-03-01T10:05:00Z}`
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d"} {
		assert.Equal(t, want, fmt.Sprintf(verb, e), verb)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("journal", "entry", e)
	assert.Contains(t, buf.String(), `"entry":"visengine.JournalEntry{Ref:0123456789abcdef0123456789abcdef `)
	assert.NotContains(t, buf.String(), e.Digest)

	e.Outcome, e.CloseSentAt, e.LeaseOwner, e.Note, e.DraftID = JournalCompleted, e.LeaseUntil, "", "", ""
	assert.Equal(t, `visengine.JournalEntry{Ref:0123456789abcdef0123456789abcdef HashVisura:2631ec9b62135de4186f509fea7d954b `+
		`Digest:`+e.Digest[:8]+`… CreatedAt:2025-03-01T10:00:00Z CloseSentAt:2025-03-01T10:05:00Z Outcome:completed}`, fmt.Sprint(e))
	assert.NotPanics(t, func() { _ = fmt.Sprint(JournalEntry{Digest: "ab"}) })
	assert.Regexp(t, regexp.MustCompile(`Digest:ab CreatedAt:-`), fmt.Sprint(JournalEntry{Digest: "ab"}))
}

func TestJournalFilterMatches(t *testing.T) {
	e := validJournalEntry()
	e.DraftID = "d1"
	done := e
	done.Outcome = JournalAbandoned
	cases := []struct {
		f         JournalFilter
		e         JournalEntry
		wantMatch bool
	}{
		{JournalFilter{}, e, true},
		{JournalFilter{}, done, true},
		{JournalFilter{DraftID: "d1"}, e, true},
		{JournalFilter{DraftID: "d2"}, e, false},
		{JournalFilter{HashVisura: a2Hash, Digest: e.Digest}, e, true},
		{JournalFilter{HashVisura: a2Hash, Digest: JournalDigest(a2Hash, nil, nil)}, e, false},
		{JournalFilter{HashVisura: "other"}, e, false},
		{JournalFilter{Unfinished: true}, e, true},
		{JournalFilter{Unfinished: true}, done, false},
		{JournalFilter{DraftID: "d1", Unfinished: true, Limit: 1}, e, true},
	}
	for i, tc := range cases {
		assert.Equal(t, tc.wantMatch, tc.f.Matches(tc.e), "case %d", i)
	}
}

func TestJournalFilterPrintsAShortDigest(t *testing.T) {
	d := JournalDigest("2631ec9b62135de4186f509fea7d954b", Values{"$4": "RSSMRA80A01H501U"}, nil)
	f := JournalFilter{HashVisura: "2631ec9b62135de4186f509fea7d954b", Digest: d}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(format, f)
		assert.NotContains(t, out, d, format)
		assert.Contains(t, out, d[:8], format)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("list", "filter", f)
	assert.NotContains(t, buf.String(), d)
}

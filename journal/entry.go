package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/visengine-go/visengine"
)

// CorruptEntryError reports a stored entry that cannot be read back: a
// file that is not an entry, or a row whose fields are out of form. It
// names where the entry is, never what it holds. A journal does not skip
// such an entry: it cannot vouch for what that submission did.
type CorruptEntryError struct {
	Where  string // the file's path, the log's path and record, or the table and row
	Reason string // what is wrong with it
}

// Error implements error.
func (e *CorruptEntryError) Error() string {
	return "visengine: journal: corrupt entry " + e.Where + ": " + e.Reason
}

// normalize keeps times as every journal stores them: UTC, to the
// microsecond (PostgreSQL's precision), without a monotonic reading.
func normalize(e visengine.JournalEntry) visengine.JournalEntry {
	e.CreatedAt = normTime(e.CreatedAt)
	e.CloseSentAt = normTime(e.CloseSentAt)
	e.UpdatedAt = normTime(e.UpdatedAt)
	e.LeaseUntil = normTime(e.LeaseUntil)
	return e
}

func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Truncate(time.Microsecond).UTC()
}

// checkLeased checks an entry given to Create or Update: valid, with an
// owner and an end to its lease.
func checkLeased(e visengine.JournalEntry) error {
	if err := e.Validate(); err != nil {
		return err
	}
	if e.LeaseOwner == "" || e.LeaseUntil.IsZero() {
		return fmt.Errorf("%w: journal entry needs LeaseOwner and LeaseUntil", visengine.ErrInvalidArgument)
	}
	return nil
}

// checkClaim checks the arguments of Claim and ClaimRef.
func checkClaim(owner string, until time.Time, max int) error {
	switch {
	case owner == "":
		return fmt.Errorf("%w: journal claim needs an owner", visengine.ErrInvalidArgument)
	case until.IsZero():
		return fmt.Errorf("%w: journal claim needs a lease end", visengine.ErrInvalidArgument)
	case max < 1:
		return fmt.Errorf("%w: journal claim of %d entries", visengine.ErrInvalidArgument, max)
	}
	probe := validProbe
	probe.LeaseOwner, probe.LeaseUntil = owner, until
	return probe.Validate()
}

// validProbe is a valid entry whose one field is replaced to check a
// lone argument the way JournalEntry.Validate checks that field.
var validProbe = visengine.JournalEntry{
	Ref:        "00000000000000000000000000000000",
	HashVisura: "0",
	Digest:     "0000000000000000000000000000000000000000000000000000000000000000",
	CreatedAt:  time.Unix(0, 0),
}

func checkRef(ref string) error {
	probe := validProbe
	probe.Ref = ref
	return probe.Validate()
}

// checkFilter checks List's filter.
func checkFilter(f visengine.JournalFilter) error {
	if f.Limit < 0 {
		return fmt.Errorf("%w: journal list limit %d", visengine.ErrInvalidArgument, f.Limit)
	}
	return nil
}

func notFound(ref string) error {
	return fmt.Errorf("visengine: journal entry %s: %w", ref, visengine.ErrNotFound)
}

// fileVersion is the entry file format written by this package.
const fileVersion = 1

// maxEntryFile bounds what is read of an entry file: a valid one is under
// 2 KiB.
const maxEntryFile = 64 << 10

// entryFile is an entry as a directory journal writes it: JSON with the
// times as RFC 3339 strings (parsed here, so that a bad time's error does
// not quote it). Leases are not written: they live in the process.
type entryFile struct {
	V           int    `json:"v"`
	Ref         string `json:"ref"`
	HashVisura  string `json:"hash_visura"`
	Digest      string `json:"digest"`
	CreatedAt   string `json:"created_at"`
	DraftID     string `json:"draft_id,omitempty"`
	CloseSentAt string `json:"close_sent_at,omitempty"`
	Outcome     string `json:"outcome,omitempty"`
	Note        string `json:"note,omitempty"`
	UpdatedAt   string `json:"updated_at"`
}

func encodeEntry(e visengine.JournalEntry) []byte {
	f := entryFile{V: fileVersion, Ref: e.Ref, HashVisura: e.HashVisura, Digest: e.Digest,
		CreatedAt: fileTime(e.CreatedAt), DraftID: e.DraftID, CloseSentAt: fileTime(e.CloseSentAt),
		Outcome: string(e.Outcome), Note: e.Note, UpdatedAt: fileTime(e.UpdatedAt)}
	b, err := json.Marshal(f)
	if err != nil {
		panic("journal: encoding an entry: " + err.Error()) // only strings and an int: cannot fail
	}
	return append(b, '\n')
}

func fileTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// decodeEntry reads an entry file's content. Its error says what is wrong
// without quoting the content.
func decodeEntry(data []byte) (visengine.JournalEntry, error) {
	var f entryFile
	if len(data) > maxEntryFile {
		return visengine.JournalEntry{}, errors.New("larger than 64 KiB")
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return visengine.JournalEntry{}, jsonProblem(err)
	}
	if f.V != fileVersion {
		return visengine.JournalEntry{}, fmt.Errorf("format version %d is not %d", f.V, fileVersion)
	}
	e := visengine.JournalEntry{Ref: f.Ref, HashVisura: f.HashVisura, Digest: f.Digest,
		DraftID: f.DraftID, Outcome: visengine.JournalOutcome(f.Outcome), Note: f.Note}
	times := []struct {
		name string
		s    string
		dst  *time.Time
	}{
		{"created_at", f.CreatedAt, &e.CreatedAt},
		{"close_sent_at", f.CloseSentAt, &e.CloseSentAt},
		{"updated_at", f.UpdatedAt, &e.UpdatedAt},
	}
	for _, tm := range times {
		if err := parseFileTime(tm.s, tm.dst); err != nil {
			return visengine.JournalEntry{}, fmt.Errorf("%s is not an RFC 3339 time", tm.name)
		}
	}
	e = normalize(e)
	if err := e.Validate(); err != nil {
		return visengine.JournalEntry{}, errors.New(invalidReason(err))
	}
	return e, nil
}

// invalidReason is a Validate error without its "invalid argument"
// prefix: in a stored entry it is corruption, not the caller's mistake.
func invalidReason(err error) string {
	return strings.TrimPrefix(err.Error(), visengine.ErrInvalidArgument.Error()+": ")
}

func parseFileTime(s string, dst *time.Time) error {
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	*dst = t
	return err
}

// jsonProblem describes a decoding error by position and field only:
// encoding/json's own messages can quote a character or a value.
func jsonProblem(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("not JSON (at byte %d)", syn.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Errorf("field %s has the wrong type", typ.Field)
	case errors.As(err, &typ):
		return errors.New("not a JSON object")
	}
	return errors.New("not a JSON entry")
}

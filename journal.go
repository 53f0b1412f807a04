package visengine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// JournalOutcome says how a journalled submission ended; the zero value
// means it has not ended yet.
type JournalOutcome string

// The outcomes a journal entry can record.
const (
	// JournalUnfinished: the submission is under way, or was interrupted
	// and waits for recovery.
	JournalUnfinished JournalOutcome = ""
	// JournalCompleted: the richiesta was closed, and so charged.
	JournalCompleted JournalOutcome = "completed"
	// JournalAbandoned: nothing was charged and nothing will be: the caller
	// may submit the same values again.
	JournalAbandoned JournalOutcome = "abandoned"
	// JournalFailed: the server refused the submission; nothing was charged.
	JournalFailed JournalOutcome = "failed"
)

// JournalEntry is what a Journal knows of one submission. It holds none of
// the applicant's values, but it is a record about an applicant (which
// service, when, paid or not): the values are represented by Digest, and
// an idempotency key by Ref, both keyed with the journal's secret
// (Journal.DigestSecret), so that they confirm no guess without it.
//
// Times are kept to the microsecond, in UTC, by every implementation.
type JournalEntry struct {
	// Ref is the submission's client reference, made by NewJournalRef, or
	// by IdempotencyRef for a submission with an idempotency key: 32
	// lowercase hex digits. It is the entry's key.
	Ref string
	// HashVisura is the service the submission pays for.
	HashVisura string
	// Digest is KeyedJournalDigest of the submitted values and options,
	// under the journal's secret, or JournalDigest for a journal that
	// keeps none (and in entries written before digests were keyed).
	Digest string
	// CreatedAt is when the submission was intended, recorded before
	// anything was sent: the richiesta, if any, was created after it. It
	// is on the journal's clock (Journal.JournalNow).
	CreatedAt time.Time
	// DraftID is the richiesta's _id once the server told it; "" before.
	DraftID string
	// CloseSentAt is when the last closing PUT was sent (recorded just
	// before sending it); zero if none was. The settle time runs from it.
	// It is on the journal's clock (Journal.JournalNow), against which
	// every replica measures the settle time.
	CloseSentAt time.Time
	// Outcome is how the submission ended; JournalUnfinished until then.
	Outcome JournalOutcome
	// Note says what is known, in a line of text without personal data
	// (such as "close answered 504"); at most 1024 bytes.
	Note string
	// UpdatedAt is when Create or Update last wrote the entry, by the
	// journal's clock. The journal sets it; the caller's value is ignored.
	UpdatedAt time.Time
	// LeaseOwner is who holds the entry's lease ("" when nobody does).
	LeaseOwner string
	// LeaseUntil is when that lease ends. Implementations shared by several
	// machines report it on their own clock (see Journal).
	LeaseUntil time.Time
}

// Finished reports whether the entry records an outcome.
func (e JournalEntry) Finished() bool { return e.Outcome != JournalUnfinished }

// Format prints a one-line summary for every verb, with the digest cut to
// 8 digits: enough to tell entries apart in a log. Nothing in an entry is
// personal data, but a whole digest of low-entropy values could be
// confirmed by guessing them.
func (e JournalEntry) Format(f fmt.State, _ rune) {
	var b strings.Builder
	fmt.Fprintf(&b, "visengine.JournalEntry{Ref:%s HashVisura:%s Digest:%s CreatedAt:%s",
		e.Ref, e.HashVisura, shortDigest(e.Digest), formatTime(e.CreatedAt))
	if e.DraftID != "" {
		fmt.Fprintf(&b, " DraftID:%s", e.DraftID)
	}
	if !e.CloseSentAt.IsZero() {
		fmt.Fprintf(&b, " CloseSentAt:%s", formatTime(e.CloseSentAt))
	}
	outcome := string(e.Outcome)
	if e.Outcome == JournalUnfinished {
		outcome = "unfinished"
	}
	fmt.Fprintf(&b, " Outcome:%s", outcome)
	if e.Note != "" {
		fmt.Fprintf(&b, " Note:%q", e.Note)
	}
	if e.LeaseOwner != "" {
		fmt.Fprintf(&b, " Lease:%s until %s", e.LeaseOwner, formatTime(e.LeaseUntil))
	}
	b.WriteString("}")
	_, _ = f.Write([]byte(b.String()))
}

// LogValue logs the Format summary, so that slog's JSON handler prints the
// same line as %v.
func (e JournalEntry) LogValue() slog.Value { return slog.StringValue(fmt.Sprint(e)) }

func shortDigest(d string) string {
	if len(d) <= 8 {
		return d
	}
	return d[:8] + "…"
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Validate checks every field's form, so that each Journal stores only what
// every other can read back: Ref from NewJournalRef, HashVisura letters and
// digits, Digest 64 lowercase hex digits, CreatedAt set, DraftID and
// LeaseOwner printable ASCII of at most 128 bytes, a known Outcome, a Note
// of one line. Errors match ErrInvalidArgument and never quote the values.
func (e JournalEntry) Validate() error {
	checks := []struct {
		field string
		err   string
	}{
		{"Ref", checkHex(e.Ref, journalRefLen)},
		{"HashVisura", checkHashVisura(e.HashVisura)},
		{"Digest", checkHex(e.Digest, sha256.Size*2)},
		{"CreatedAt", checkTime(e.CreatedAt, true)},
		{"DraftID", checkToken(e.DraftID)},
		{"CloseSentAt", checkTime(e.CloseSentAt, false)},
		{"Outcome", checkOutcome(e.Outcome)},
		{"Note", checkNote(e.Note)},
		{"UpdatedAt", checkTime(e.UpdatedAt, false)},
		{"LeaseOwner", checkToken(e.LeaseOwner)},
		{"LeaseUntil", checkTime(e.LeaseUntil, false)},
	}
	for _, c := range checks {
		if c.err != "" {
			return fmt.Errorf("%w: journal entry %s %s", ErrInvalidArgument, c.field, c.err)
		}
	}
	return nil
}

// journalRefLen is the length of a Ref: 128 bits in hex.
const journalRefLen = 32

// maxJournalNote bounds JournalEntry.Note.
const maxJournalNote = 1024

func checkHex(s string, n int) string {
	if len(s) != n {
		return fmt.Sprintf("is not %d lowercase hex digits", n)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return fmt.Sprintf("is not %d lowercase hex digits", n)
		}
	}
	return ""
}

func checkHashVisura(s string) string {
	if s == "" || len(s) > 64 {
		return "is not 1 to 64 letters and digits"
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return "is not 1 to 64 letters and digits"
		}
	}
	return ""
}

// checkToken accepts "" or up to 128 bytes of printable ASCII without
// blanks: ids and owner names, safe in a file, a log line and SQL text.
func checkToken(s string) string {
	if len(s) > 128 {
		return "is longer than 128 bytes"
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' {
			return "has a character other than printable ASCII"
		}
	}
	return ""
}

// checkTime keeps times where every journal can store them (PostgreSQL
// and RFC 3339 both end at year 9999).
func checkTime(t time.Time, required bool) string {
	switch {
	case t.IsZero() && required:
		return "is not set"
	case t.IsZero():
		return ""
	case t.Year() < 1970 || t.Year() > 9999:
		return "is outside the years 1970 to 9999"
	}
	return ""
}

func checkOutcome(o JournalOutcome) string {
	switch o {
	case JournalUnfinished, JournalCompleted, JournalAbandoned, JournalFailed:
		return ""
	}
	return "is not a known outcome"
}

func checkNote(s string) string {
	switch {
	case len(s) > maxJournalNote:
		return "is longer than 1024 bytes"
	case !utf8.ValidString(s):
		return "is not UTF-8"
	case strings.ContainsFunc(s, unicode.IsControl):
		return "has a control character"
	}
	return ""
}

// JournalFilter selects entries for Journal.List. Every field that is set
// must match; the zero filter selects every entry.
type JournalFilter struct {
	DraftID    string // the richiesta's _id
	HashVisura string // the service
	Digest     string // JournalDigest of the values and options
	Unfinished bool   // only entries with no Outcome yet
	Limit      int    // at most this many entries, oldest first; 0: all
}

// Format prints the filter with the digest cut to 8 digits, as
// JournalEntry does, for every verb.
func (f JournalFilter) Format(st fmt.State, _ rune) {
	fmt.Fprintf(st, "visengine.JournalFilter{DraftID:%s HashVisura:%s Digest:%s Unfinished:%t Limit:%d}",
		f.DraftID, f.HashVisura, shortDigest(f.Digest), f.Unfinished, f.Limit)
}

// LogValue logs the Format summary.
func (f JournalFilter) LogValue() slog.Value { return slog.StringValue(fmt.Sprint(f)) }

// Matches reports whether e is selected by f (Limit aside).
func (f JournalFilter) Matches(e JournalEntry) bool {
	return (f.DraftID == "" || e.DraftID == f.DraftID) &&
		(f.HashVisura == "" || e.HashVisura == f.HashVisura) &&
		(f.Digest == "" || e.Digest == f.Digest) &&
		(!f.Unfinished || !e.Finished())
}

// Journal records each submission's steps before they are taken, so that
// a crash or a lost answer leaves a record of what may exist on the server
// and what may have been paid. An implementation is safe for concurrent
// use; package journal has a directory (one process) and PostgreSQL
// (several replicas).
//
// Leases make one worker at a time act on an entry. A worker is an owner
// string unique to its process (a host name and process id, or a random
// token): leases taken by a dead process run out at their end, and only
// then can others claim its entries. Lease ends are read as durations on
// the caller's clock (until − now, when the call starts); a journal shared
// by several machines applies that duration to its own clock and checks
// expiry on it, so that skewed replica clocks change neither who holds a
// lease nor for how long. A worker should thus keep its own deadline
// rather than compare LeaseUntil with its clock.
//
// Entries, finished or not, are kept until their store is cleaned by hand.
type Journal interface {
	// Create records a new entry, leased to e.LeaseOwner until
	// e.LeaseUntil, durably before it returns. It fails with
	// ErrJournalConflict if the journal already holds e.Ref.
	//
	// Durability classes: a journal may return from Create and Update
	// before two kinds of record are durable, as long as they survive the
	// end of the calling process (a kill) and are made durable in order,
	// by the next durable write or by Close: an intent (Outcome
	// unfinished, no DraftID, no CloseSentAt; a power cut that loses it
	// leaves at most a free draft open, which no entry names) and a
	// completed outcome (one lost reads unfinished with its close time, and
	// Recover or a keyed replay reads the richiesta back and completes it).
	// A completed outcome that ends the lease may even be written behind,
	// after Update returned, and so lost with the calling process, as long
	// as the entry stays leased until it is written (no other process acts
	// on it meanwhile) and the journal's own reads see it: what its loss
	// costs is that one read. Every other record, above all the draft's id
	// with the close's time (the close may charge) and a failed or
	// abandoned outcome (the caller was told nothing was charged), must be
	// durable before the call returns. The journal decides from e alone; making every record
	// durable is always correct (package journal's journals follow these
	// classes).
	Create(ctx context.Context, e JournalEntry) error
	// Update replaces the entry with e.Ref by e, durably before it returns
	// (but see Create's durability classes), and renews the lease to
	// e.LeaseUntil, but only while e.LeaseOwner holds an unexpired lease
	// on it: otherwise it fails with ErrLeaseLost and the caller must
	// stop. A LeaseUntil not after the caller's now ends the lease in the
	// same write, as Release would (an expired lease is free in any case):
	// an entry's last write needs no Release. A missing entry matches
	// ErrNotFound. Either error means that nothing was written: Submit
	// relies on it to tell a caller that a draft is never to be closed.
	Update(ctx context.Context, e JournalEntry) error
	// Claim leases to owner, until until, up to max unfinished entries whose
	// lease is free or expired, oldest CreatedAt first, and returns them.
	// Concurrent claimers never get the same entry.
	Claim(ctx context.Context, owner string, until time.Time, max int) ([]JournalEntry, error)
	// ClaimRef leases the entry ref (finished or not) to owner until until,
	// if its lease is free, expired or already owner's, and returns it.
	// Leased to another owner, it fails with ErrLeaseHeld; missing, with an
	// error matching ErrNotFound.
	ClaimRef(ctx context.Context, ref, owner string, until time.Time) (JournalEntry, error)
	// Release ends owner's lease on ref; it does nothing if owner does not
	// hold it. A missing entry matches ErrNotFound.
	Release(ctx context.Context, ref, owner string) error
	// Get returns the entry ref; a missing one matches ErrNotFound.
	Get(ctx context.Context, ref string) (JournalEntry, error)
	// List returns the entries f selects, finished or not, oldest
	// CreatedAt first (then by Ref), whoever leases them.
	List(ctx context.Context, f JournalFilter) ([]JournalEntry, error)
	// ListDrafts returns the entries whose DraftID is one of ids, finished
	// or not, in any order; ids that no entry names are left out. It is
	// one lookup through an index for many ids, so that Recover asks once
	// for a page of the account's richieste instead of once per richiesta
	// (List with JournalFilter.DraftID). Recover passes at most
	// JournalLookupMax ids, each 1 to 64 letters, digits, '_' or '-'.
	ListDrafts(ctx context.Context, ids []string) ([]JournalEntry, error)
	// DigestSecret returns the journal's secret, kept apart from its
	// entries, with which the client keys what it records about an
	// applicant: the digest of the values (KeyedJournalDigest) and the Ref
	// an idempotency key stands for (IdempotencyRef). Whoever reads the
	// entries without it cannot confirm a guess of an applicant's data or
	// key. It must return at least MinDigestSecret bytes, the same bytes
	// to every caller in every process for the journal's whole life
	// (another secret would make every key name a new submission):
	// create it on first use and keep it (package journal keeps a file
	// beside the entries, a table beside theirs), or read it from a
	// secret manager. A journal that keeps none returns (nil, nil): the
	// client then records unkeyed digests (JournalDigest) and refuses
	// idempotency keys, unless it is given a secret (WithJournalSecret).
	// The client asks for it on every submission: cache it.
	DigestSecret(ctx context.Context) ([]byte, error)
	// JournalNow returns the time on the journal's clock: the one its
	// leases run on and that CreatedAt, CloseSentAt and UpdatedAt are
	// recorded on. The client measures its offset from this machine's
	// clock (at most every 30 s) and measures settle times against it, so
	// that replicas whose clocks disagree still wait the whole settle
	// time after a close. A journal shared by several machines returns
	// its store's clock (PostgreSQL's clock_timestamp()); a journal of one process
	// returns time.Now().
	JournalNow(ctx context.Context) (time.Time, error)
}

// JournalLookupMax is the most ids Recover and Reconcile pass to one
// Journal.ListDrafts call.
const JournalLookupMax = 500

// NewJournalRef returns a new client reference for a submission: 128
// random bits as 32 lowercase hex digits.
func NewJournalRef() (string, error) {
	var b [journalRefLen / 2]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("visengine: journal ref: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// JournalDigest returns the hex SHA-256 of a submission's canonical form:
// the service hash, the values and the chosen options, so that a journal
// can tell two submissions of the same applicant apart from others
// without storing personal data. opzioni are the option nomi as sent
// ("opzione_0"), not tipi.
//
// The canonical form, version 1, is fixed so that every SDK version (and
// any other language) computes the same digest. Values are trimmed of
// surrounding white space (unicode.IsSpace), blank ones are left out, the
// rest are taken in ascending byte order of their keys; options are
// trimmed, blank ones left out, sorted and de-duplicated. The digest is
// taken over these lines, where <s> stands for the string s written as its
// length in bytes (decimal), ":", then s:
//
//	v1\n
//	hash <hash>\n
//	value <key> <value>\n    for each value
//	option <option>\n        for each option
//
// A change to this form would be a new version with a new first line.
// The digest is not anonymous: whoever can guess every value can confirm
// the guess (a birth date and a sex take a few thousand guesses). Submit
// records KeyedJournalDigest instead, the HMAC of the same form under the
// journal's secret (Journal.DigestSecret), whenever there is one.
func JournalDigest(hash string, values Values, opzioni []string) string {
	return digestWith(sha256.New(), hash, values, opzioni)
}

// writeDigestLine writes tag, then each string length-prefixed, then "\n":
// lengths keep "a b"+"c" apart from "a"+"b c" whatever the strings hold.
func writeDigestLine(h hash.Hash, tag string, strs ...string) {
	_, _ = io.WriteString(h, tag)
	for _, s := range strs {
		_, _ = io.WriteString(h, " "+strconv.Itoa(len(s))+":")
		_, _ = io.WriteString(h, s)
	}
	_, _ = io.WriteString(h, "\n")
}

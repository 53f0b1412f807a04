package visengine

import (
	"strconv"
	"strings"
)

// ListError reports the entries of a list answer (ListVisure's catalogue,
// ListRichieste) that could not be read. The call returns it together with
// every entry that could: one odd entry never hides the others, and is
// never turned into a zero-valued entry either. It matches
// ErrUnexpectedResponse, and whatever each entry's own error matches (such
// as ErrBadPrice).
//
// The bad entries are reported here rather than in the returned slice
// (with an error field on each element) so that a caller who only checks
// err cannot mistake a half-read entry for a real one, and the slice keeps
// the type every caller already ranges over.
type ListError struct {
	Call    string       // the call, "GET /richiesta"
	Total   int          // entries in the answer, readable or not
	Entries []EntryError // the unreadable ones, in the answer's order
}

// EntryError is one entry of a list that could not be read.
type EntryError struct {
	Index int    // its position in the answer, from 0
	ID    string // its _id (a richiesta) or hash_visura (a service) when usable; "" otherwise
	Err   error  // why it could not be read
}

// maxListedEntries bounds how many entries ListError.Error spells out.
const maxListedEntries = 5

// Error says how many entries could not be read, and why for the first
// few. It quotes no field value: ids and hashes only.
func (e *ListError) Error() string {
	if e == nil {
		return errPrefix + "<nil ListError>"
	}
	var b strings.Builder
	b.WriteString(errPrefix + e.Call + ": " + strconv.Itoa(len(e.Entries)) + " of " + strconv.Itoa(e.Total) +
		" entries could not be read")
	for i, x := range e.Entries {
		if i == maxListedEntries {
			b.WriteString("; and " + strconv.Itoa(len(e.Entries)-i) + " more")
			break
		}
		b.WriteString("; #" + strconv.Itoa(x.Index))
		if x.ID != "" {
			b.WriteString(" (" + x.ID + ")")
		}
		if x.Err != nil {
			b.WriteString(": " + bare(x.Err))
		}
	}
	return b.String()
}

// Unwrap returns ErrUnexpectedResponse and each entry's error, for
// errors.Is and errors.As.
func (e *ListError) Unwrap() []error {
	if e == nil {
		return nil
	}
	out := make([]error, 0, len(e.Entries)+1)
	out = append(out, ErrUnexpectedResponse)
	for _, x := range e.Entries {
		if x.Err != nil {
			out = append(out, x.Err)
		}
	}
	return out
}

// listError is a *ListError for bad, or nil when there is none.
func listError(call string, total int, bad []EntryError) error {
	if len(bad) == 0 {
		return nil
	}
	return &ListError{Call: call, Total: total, Entries: bad}
}

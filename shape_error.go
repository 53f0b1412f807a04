package visengine

import "fmt"

// ShapeError reports a value in an answer that has a shape the SDK does not
// understand where it expected another: "yes" for a flag, false for a
// price, a date in an unknown format, a list where a text is due. Decoding
// is lenient with the shapes a PHP backend sends for "nothing" (null,
// false, "", [] and {}) and reads the other shapes whose meaning is clear
// (numbers as strings, dates as text, keyed objects as lists, JSON inside a
// string); anything else is refused with a ShapeError rather than read as a
// zero value, which would be a silent loss.
//
// Key is the value's place in the data ("ricerca",
// "timestamp_stati.in_ricerca", "callback_data.data"); the value itself is
// never quoted, as it may be personal data. A ShapeError matches
// ErrUnexpectedResponse and its cause (ErrBadPrice for a price). The
// *APIError of a call whose answer held one unwraps to it.
type ShapeError struct {
	Key  string // where the value was, as a path of JSON keys
	Want string // what was expected, e.g. "a boolean"
	Err  error  // the cause, when a parser gave one (a price's ErrBadPrice); may be nil
}

// Error says where and what was expected, never the value.
func (e *ShapeError) Error() string {
	if e == nil {
		return "visengine: <nil ShapeError>"
	}
	if e.Err != nil {
		return fmt.Sprintf("%s%q: %s", errPrefix+"unexpected response: ", e.Key, bare(e.Err))
	}
	return fmt.Sprintf("%s%q: expected %s", errPrefix+"unexpected response: ", e.Key, e.Want)
}

// Unwrap returns ErrUnexpectedResponse and the cause, if any.
func (e *ShapeError) Unwrap() []error {
	if e == nil {
		return nil
	}
	if e.Err != nil {
		return []error{ErrUnexpectedResponse, e.Err}
	}
	return []error{ErrUnexpectedResponse}
}

// shapeError builds a *ShapeError for key.
func shapeError(key, want string) error { return &ShapeError{Key: key, Want: want} }

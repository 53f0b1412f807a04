package docstream

import (
	"errors"
	"fmt"
)

// ErrTooLarge is returned when the response is longer than Options.MaxBytes.
// The caller chose the cap to bound time and disk, so reading stops at once.
var ErrTooLarge = errors.New("docstream: response exceeds the size limit")

// ErrOverDimensione is returned when the decoded file grows past the
// "dimensione" that came before "file" in the response. The chunk that would
// pass it is not written, so w never receives more than dimensione bytes.
var ErrOverDimensione = errors.New("docstream: file longer than the announced dimensione")

// ErrBase64 is returned when the "file" string is not valid standard base64.
// The wrapped base64.CorruptInputError (if any) gives only an offset.
var ErrBase64 = errors.New("docstream: file is not valid base64")

// SyntaxError reports malformed JSON or a value of the wrong type in the
// envelope. Msg is a fixed description and Offset the byte position in the
// response; neither carries response content, so the error can be logged.
type SyntaxError struct {
	Offset int64
	Msg    string
}

// Error implements error.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("docstream: invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

package visengine

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
)

// Sentinel errors, for errors.Is. An *APIError matches the one its HTTP status
// (and Visengine error code) stands for.
var (
	// ErrNotFound: the hash, richiesta or document does not exist (404).
	ErrNotFound = errors.New("visengine: not found")
	// ErrUnauthorized: the token is missing, wrong, expired or lacks the
	// scope for the call (401, 403).
	ErrUnauthorized = errors.New("visengine: unauthorized")
	// ErrInsufficientCredit: the wallet cannot pay for the call (402).
	ErrInsufficientCredit = errors.New("visengine: insufficient credit")
	// ErrInvalidRequest: the server refused the input (400, 412, 428).
	ErrInvalidRequest = errors.New("visengine: invalid request")
	// ErrDocumentNotReady: the document is not yet available (422, code 247).
	ErrDocumentNotReady = errors.New("visengine: document not ready")
	// ErrConflict: the call does not apply to this richiesta (409).
	ErrConflict = errors.New("visengine: conflict")
	// ErrRateLimited: too many requests (429).
	ErrRateLimited = errors.New("visengine: rate limited")
	// ErrServer: the server or a gateway failed (5xx).
	ErrServer = errors.New("visengine: server error")
	// ErrUnexpectedResponse: the answer is not a Visengine envelope (an HTML
	// error page, an empty or truncated body, a redirect, data missing).
	ErrUnexpectedResponse = errors.New("visengine: unexpected response")
	// ErrOutcomeUnknown: a non-idempotent call (POST, PUT) may or may not have
	// been applied; see OutcomeUnknownError.
	ErrOutcomeUnknown = errors.New("visengine: outcome unknown")
	// ErrInvalidArgument: a call's argument was refused before any request.
	ErrInvalidArgument = errors.New("visengine: invalid argument")
)

// Sentinel errors of local checks and of documents, for errors.Is.
var (
	// ErrInvalidFields: the values do not satisfy the document's rule, a
	// filled field is malformed, or a key is not among the document's fields.
	ErrInvalidFields = errors.New("visengine: invalid fields")
	// ErrRuleUnsupported: the document's validazione rule does not parse or
	// names a field the document lacks. Validate reports it only with WithStrict;
	// otherwise it lets the server judge presence and still checks formats.
	ErrRuleUnsupported = errors.New("visengine: validazione rule not supported")
	// ErrBadPrice reports a price that is not a decimal amount in whole cents.
	ErrBadPrice = errors.New("visengine: bad price")
	// ErrUnsafeZip is wrapped by every *ZipError that refuses an archive before
	// anything is read or written: path traversal, links, duplicates, bombs.
	ErrUnsafeZip = errors.New("visengine: unsafe zip archive")
	// ErrIntegrity means content does not match what was declared for it: an
	// entry longer or shorter than its header says, a bad checksum, or (for a
	// download) a document whose length differs from "dimensione".
	ErrIntegrity = errors.New("visengine: content does not match its declared size")
	// ErrNotZip means bytes that should be a zip archive are not one.
	ErrNotZip = errors.New("visengine: not a zip archive")
	// ErrResponseTooLarge means a response was longer than the configured cap.
	ErrResponseTooLarge = errors.New("visengine: response larger than the limit")
	// ErrCancelled: the richiesta was cancelled ("Annullata").
	ErrCancelled = errors.New("visengine: richiesta cancelled")
	// ErrSearchFailed: the richiesta's last search found nothing or was refused
	// ("Errore su richiesta dati"); it waits for another search (AddRicerca).
	ErrSearchFailed = errors.New("visengine: search failed")
)

// APIError is an answer that is not a success: an envelope with
// "success": false, or a status or body that is not a Visengine answer at all.
// Code and Message are the envelope's "error" and "message"; the message is
// the server's, kept verbatim (it embeds ids and the wallet balance) apart
// from control characters, and cut at 256 bytes. Error prints it whole except
// for a 412, whose message may echo the input after its first ": ".
type APIError struct {
	StatusCode int    // HTTP status
	Code       int    // Visengine "error" code; 0 when absent
	Message    string // Visengine "message", or what was wrong with the answer

	// unexpected marks answers that were not an envelope.
	unexpected bool
}

// Error implements error.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "visengine: HTTP %d", e.StatusCode)
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteString(" " + t)
	}
	if e.Code != 0 {
		fmt.Fprintf(&b, " (error %d)", e.Code)
	}
	if msg := e.printableMessage(); msg != "" {
		b.WriteString(": " + msg)
	}
	return b.String()
}

// printableMessage is Message as Error prints it. Visengine's 412 messages
// ("Insufficient data to validate the request: …", "error in the input
// data: …") may echo the applicant's input after the first ": ", so for a
// 412 only the part up to there is printed; Message keeps it all.
func (e *APIError) printableMessage() string {
	if e.StatusCode != http.StatusPreconditionFailed || e.unexpected {
		return e.Message
	}
	head, tail, found := strings.Cut(e.Message, ": ")
	switch {
	case !found:
		return e.Message
	case strings.TrimSpace(tail) == "":
		return head + ":"
	}
	return head + ": …"
}

// Is matches the sentinel that the status and code stand for.
func (e *APIError) Is(target error) bool {
	if target == ErrUnexpectedResponse {
		return e.unexpected
	}
	return e.kind() == target
}

// kind maps the answer to a sentinel. The code wins where it is unambiguous,
// because Visengine sometimes answers an error with HTTP 200.
func (e *APIError) kind() error {
	switch e.Code {
	case 247:
		return ErrDocumentNotReady
	case 211, 225, 237:
		return ErrInsufficientCredit
	case 202, 203, 228, 244:
		return ErrNotFound
	}
	switch s := e.StatusCode; {
	case s == http.StatusNotFound:
		return ErrNotFound
	case s == http.StatusUnauthorized, s == http.StatusForbidden:
		return ErrUnauthorized
	case s == http.StatusPaymentRequired:
		return ErrInsufficientCredit
	case s == http.StatusBadRequest, s == http.StatusPreconditionFailed, s == http.StatusPreconditionRequired:
		return ErrInvalidRequest
	case s == http.StatusUnprocessableEntity:
		return ErrDocumentNotReady
	case s == http.StatusConflict:
		return ErrConflict
	case s == http.StatusTooManyRequests:
		return ErrRateLimited
	case s >= 500:
		return ErrServer
	}
	return nil
}

// Temporary reports whether the same call may succeed later (429, 5xx, a
// document not ready yet).
func (e *APIError) Temporary() bool {
	k := e.kind()
	return k == ErrRateLimited || k == ErrServer || k == ErrDocumentNotReady
}

func newAPIError(status, code int, msg string) *APIError {
	return &APIError{StatusCode: status, Code: code, Message: cleanMessage(msg)}
}

func unexpectedResponse(status int, format string, args ...any) *APIError {
	return &APIError{StatusCode: status, Message: fmt.Sprintf(format, args...), unexpected: true}
}

// cleanMessage keeps a server message printable and short, so that a hostile
// or broken server cannot flood logs or forge lines through our errors.
func cleanMessage(s string) string {
	const max = 256
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > max {
		cut := max
		for cut > 0 && !utfStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func utfStart(b byte) bool { return b&0xC0 != 0x80 }

// OutcomeUnknownError is returned when a non-idempotent call (POST, PUT) may
// have reached the server but no answer was read: the connection dropped,
// the context ended, or a gateway failed after the request was sent. It is
// also returned when the server answered 2xx (it took the call, and may have
// charged it) but the answer could not be interpreted; Err is then the
// *APIError saying what was wrong with it. The call was not resent, because resending POST /richiesta can charge twice.
// Read the state back (GetRichiesta, or Reconcile after a create) before
// trying again.
type OutcomeUnknownError struct {
	Method string    // HTTP method
	Path   string    // URL path, without query
	SentAt time.Time // when the request that may have arrived was sent
	Err    error     // the cause
}

// Error implements error. It names the call and the cause, never a body.
func (e *OutcomeUnknownError) Error() string {
	return fmt.Sprintf("visengine: outcome of %s %s unknown (sent %s), not resent; read the state back before retrying: %v",
		e.Method, e.Path, e.SentAt.UTC().Format(time.RFC3339), e.Err)
}

// Unwrap returns the cause.
func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

// Is matches ErrOutcomeUnknown.
func (e *OutcomeUnknownError) Is(target error) bool { return target == ErrOutcomeUnknown }

// invalidArg builds an ErrInvalidArgument error. The value itself is never
// included: ids and hashes are harmless, but the same helper guards user data.
func invalidArg(what, why string) error {
	return fmt.Errorf("%w: %s %s", ErrInvalidArgument, what, why)
}

package visengine

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/visengine-go/visengine/internal/transport"
)

// Sentinel errors, for errors.Is. An *APIError matches the one its HTTP status
// (and Visengine error code) stands for.
var (
	// ErrNotFound: the hash, richiesta or document does not exist (404; for
	// an unknown hash Visengine answers 400 with CodeWrongHash, which
	// matches ErrInvalidRequest too).
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
	// ErrConflict: the call does not apply to this richiesta (409), or it
	// was closed already (ErrAlreadyClosed).
	ErrConflict = errors.New("visengine: conflict")
	// ErrAlreadyClosed: a PUT asked to change or close a richiesta that is
	// closed already (400, CodeAlreadyClosed). It also matches ErrConflict,
	// and ErrInvalidRequest as its status says.
	ErrAlreadyClosed = errors.New("visengine: richiesta already closed")
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
	// ErrStalled: an attempt sent and received nothing for the stall
	// timeout (WithStallTimeout) and was cut. The error also matches
	// os.ErrDeadlineExceeded and reports Timeout() true; a paid call cut
	// this way is an *OutcomeUnknownError.
	ErrStalled = transport.ErrStalled
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

// Code is a Visengine error code, the envelope's "error" number. The codes
// are per endpoint (insufficient credit is 211, 225 or 237 depending on the
// call), so each constant names its meaning and, where one meaning has
// several codes, the call it comes from. Codes not listed here are kept as
// they come.
type Code int

// The error codes Visengine documents, by endpoint.
const (
	CodeWrongHash                   Code = 200 // GET /visure/{hash}, POST /richiesta: "wrong hash_visura"
	CodeInvalidID                   Code = 201 // GET /richiesta/{id}: "Invalid id"
	CodeRichiestaNotFound           Code = 202 // GET /richiesta/{id}: "no request matches this id: …"
	CodeNoRichieste                 Code = 203 // GET /richiesta: the account has none (an empty list)
	CodeHashRequired                Code = 204 // POST /richiesta: "hash_visura required"
	CodeInvalidEmail                Code = 209 // POST /richiesta: "email is considered invalid!"
	CodeInsufficientCredit          Code = 211 // POST /richiesta: "Insufficient Credit in Wallet: …"
	CodeInvalidIDRicerca            Code = 219 // POST /richiesta/{id}: "Invalid id"
	CodeNotFinalized                Code = 221 // POST /richiesta/{id}: "the request is in state 0, not yet finalized"
	CodeRicercaNotAllowed           Code = 222 // POST /richiesta/{id}: "this request does not allow the addition of a search"
	CodeJSONVisuraRequired          Code = 224 // POST /richiesta/{id}: "json_visura required"
	CodeInsufficientCreditRicerca   Code = 225 // POST /richiesta/{id}: "Insufficient Credit in Wallet: …"
	CodeIDRequired                  Code = 226 // PUT /richiesta/{id}: "id required"
	CodeRichiestaNotFoundPut        Code = 228 // PUT /richiesta/{id} and PUT /richiesta/{id}/ricerche: "no requests matches this id: …"
	CodeInvalidInput                Code = 229 // PUT /richiesta/{id}: "error in the input data: …"
	CodeNoRisultati                 Code = 230 // PUT /richiesta/{id}/ricerche: the service has no results to choose from
	CodeInvalidIndice               Code = 233 // PUT /richiesta/{id}/ricerche: "indice not valid or required"
	CodeNegativeIndice              Code = 234 // PUT /richiesta/{id}/ricerche: "indice must be >= 0"
	CodeInsufficientCreditRisultato Code = 237 // PUT /richiesta/{id}/ricerche: "Insufficient Credit in Wallet: …"
	CodeAlreadyClosed               Code = 239 // PUT /richiesta/{id}: "the request has already been closed"
	CodeIDRequiredDocumento         Code = 242 // GET /documento/{id}: "id required"
	CodeInvalidIDDocumento          Code = 243 // GET /documento/{id}: "Invalid id"
	CodeRichiestaNotFoundDocumento  Code = 244 // GET /documento/{id}: "no requests matches this id: …"
	CodeDocumentNotReady            Code = 247 // GET /documento/{id}: "document not yet available"
	CodeInsufficientData            Code = 250 // POST /richiesta, POST /richiesta/{id}: "Insufficient data to validate the request: …"
)

// Sentinel errors of tokens and of a Journal, for errors.Is. A missing
// journal entry matches ErrNotFound.
var (
	// ErrMissingScope reports a call that the token's scopes do not cover; it is
	// caught before anything is sent.
	ErrMissingScope = errors.New("visengine: token lacks the scope for this call")
	// ErrJournalConflict: Create was given a Ref the journal already holds.
	ErrJournalConflict = errors.New("visengine: journal entry already exists")
	// ErrLeaseLost: the caller's lease on the entry expired or another owner
	// took it. The caller must stop working on that submission: another
	// replica may be finishing it.
	ErrLeaseLost = errors.New("visengine: journal lease lost")
	// ErrLeaseHeld: ClaimRef found the entry leased to another owner, who is
	// working on that submission now.
	ErrLeaseHeld = errors.New("visengine: journal entry leased to another owner")
	// ErrJournalLocked: the journal is already open elsewhere (a file
	// journal's directory in another process, or another Dir in this one).
	ErrJournalLocked = errors.New("visengine: journal locked by another user")
	// ErrIdempotencyKeyReused: Submit was given an idempotency key
	// (WithIdempotencyKey) that an earlier submission used with another
	// service, other values or other options. Nothing was sent.
	ErrIdempotencyKeyReused = errors.New("visengine: idempotency key reused with other parameters")
)

// APIError is an answer that is not a success: an envelope with
// "success": false, or a status or body that is not a Visengine answer at all.
// It matches (errors.Is) the sentinels its code and status stand for.
type APIError struct {
	Method     string // the call's HTTP method
	Path       string // the call's endpoint path, e.g. "/visure/{hash}" with the hash
	StatusCode int    // HTTP status
	Code       Code   // Visengine "error" code; 0 when absent
	// Message is the envelope's "message" exactly as the server sent it (it
	// embeds ids and the wallet balance), or what was wrong with the answer.
	// Error prints a cleaned, capped version of it.
	Message string
	// RetryAfter is the server's Retry-After on a 429 or a 503: how long it
	// asks the client to wait before the next call; 0 when it gives none.
	// Submit waits it before sending a step refused with 429 again (see
	// WithRateLimitRetry).
	RetryAfter time.Duration

	// unexpected marks answers that were not an envelope.
	unexpected bool
}

// Error implements error: "visengine: GET /visure/…: HTTP 400 (Visengine
// error 200): wrong hash_visura". The message is printed without control
// characters and cut at 256 bytes; for a 412, whose message may echo the
// input after its first ": ", only the part up to there is printed.
func (e *APIError) Error() string {
	if e == nil {
		return "visengine: <nil APIError>"
	}
	var b strings.Builder
	b.WriteString("visengine: ")
	if e.Method != "" || e.Path != "" {
		fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
	}
	fmt.Fprintf(&b, "HTTP %d", e.StatusCode)
	if e.Code != 0 {
		fmt.Fprintf(&b, " (Visengine error %d)", e.Code)
	}
	if msg := e.printableMessage(); msg != "" {
		b.WriteString(": " + msg)
	}
	return b.String()
}

// GoString prints the error for %#v with Message as Error prints it
// (cleaned, capped, a 412's echo cut): %#v must not be a way around that.
func (e *APIError) GoString() string {
	if e == nil {
		return "(*visengine.APIError)(nil)"
	}
	return fmt.Sprintf("&visengine.APIError{Method:%q, Path:%q, StatusCode:%d, Code:%d, Message:%q}",
		e.Method, e.Path, e.StatusCode, e.Code, e.printableMessage())
}

// printableMessage is Message as Error prints it: cleaned and, for a 412,
// cut after the first ": " (Visengine's 412 messages, "Insufficient data to
// validate the request: …" and "error in the input data: …", may echo the
// applicant's input there).
func (e *APIError) printableMessage() string {
	msg := cleanMessage(e.Message)
	if e.StatusCode != http.StatusPreconditionFailed || e.unexpected {
		return msg
	}
	head, tail, found := strings.Cut(msg, ": ")
	switch {
	case !found:
		return msg
	case strings.TrimSpace(tail) == "":
		return head + ":"
	}
	return head + ": …"
}

// Is matches the sentinels that the code and status stand for.
func (e *APIError) Is(target error) bool {
	if e == nil {
		return false
	}
	if target == ErrUnexpectedResponse {
		return e.unexpected
	}
	return slices.Contains(e.kinds(), target)
}

// kinds maps the answer to its sentinels. The code wins where it is
// unambiguous, because Visengine sometimes answers an error with HTTP 200.
func (e *APIError) kinds() []error {
	if k := codeKinds(e.Code); k != nil {
		return k
	}
	if k := statusKind(e.StatusCode); k != nil {
		return []error{k}
	}
	return nil
}

func codeKinds(c Code) []error {
	switch c {
	case CodeDocumentNotReady:
		return []error{ErrDocumentNotReady}
	case CodeInsufficientCredit, CodeInsufficientCreditRicerca, CodeInsufficientCreditRisultato:
		return []error{ErrInsufficientCredit}
	case CodeRichiestaNotFound, CodeNoRichieste, CodeRichiestaNotFoundPut, CodeRichiestaNotFoundDocumento:
		return []error{ErrNotFound}
	case CodeWrongHash: // a 400 that means "no such service"
		return []error{ErrNotFound, ErrInvalidRequest}
	case CodeAlreadyClosed: // a 400 that means "not in a state for this"
		return []error{ErrAlreadyClosed, ErrConflict, ErrInvalidRequest}
	}
	return nil
}

func statusKind(s int) error {
	switch {
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
	return e.Is(ErrRateLimited) || e.Is(ErrServer) || e.Is(ErrDocumentNotReady)
}

// newAPIError builds the error for an envelope with "success": false; the
// caller that knows the call fills Method and Path.
func newAPIError(status, code int, msg string) *APIError {
	return &APIError{StatusCode: status, Code: Code(code), Message: msg}
}

func unexpectedResponse(status int, format string, args ...any) *APIError {
	return &APIError{StatusCode: status, Message: fmt.Sprintf(format, args...), unexpected: true}
}

// cleanMessage keeps a server message printable and short, so that a hostile
// or broken server cannot flood logs or forge lines through our errors:
// control and format characters (bidi overrides included) and line or
// paragraph separators become spaces.
func cleanMessage(s string) string {
	const max = 256
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
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

// readFailure is the error of an answer whose body could not be read: it
// wraps io.ErrUnexpectedEOF (a stall of the body matches it too) and, when
// the stall timeout cut the body, the stall.
func readFailure(status int, readErr error) error {
	var stall *transport.StallError
	if errors.As(readErr, &stall) {
		return fmt.Errorf("%w: %w", unexpectedResponse(status, "body cut"), stall)
	}
	return fmt.Errorf("%w: %w", unexpectedResponse(status, "reading body: %v", readErr), io.ErrUnexpectedEOF)
}

// OutcomeUnknownError is returned when a non-idempotent call (POST, PUT) may
// have reached the server but no answer was read: the connection dropped,
// the context ended, or a gateway failed after the request was sent. It is
// also returned when the server answered 2xx (it took the call, and may have
// charged it) but the answer could not be interpreted; Err is then the
// *APIError saying what was wrong with it. The call was not resent, because
// resending POST /richiesta can charge twice. Read the state back
// (GetRichiesta, or Reconcile after a create) before trying again.
//
// When the SDK can prove that nothing left the process (the context had
// ended before the attempt started, the connection was never made) the
// error is not an OutcomeUnknownError but the plain cause, such as
// context.Canceled.
type OutcomeUnknownError struct {
	Method string    // HTTP method
	Path   string    // the endpoint's path, relative to the base URL
	SentAt time.Time // when the request that may have arrived was sent
	Err    error     // the cause
}

// Error implements error. It names the call and the cause, never a body.
func (e *OutcomeUnknownError) Error() string {
	if e == nil {
		return "visengine: <nil OutcomeUnknownError>"
	}
	msg := fmt.Sprintf("visengine: outcome of %s %s unknown (sent %s), not resent; read the state back before retrying",
		e.Method, e.Path, e.SentAt.UTC().Format(time.RFC3339))
	if e.Err != nil {
		msg += ": " + bare(e.Err)
	}
	return msg
}

// Unwrap returns the cause.
func (e *OutcomeUnknownError) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

// Is matches ErrOutcomeUnknown.
func (e *OutcomeUnknownError) Is(target error) bool { return target == ErrOutcomeUnknown }

// invalidArg builds an ErrInvalidArgument error. The value itself is never
// included: ids and hashes are harmless, but the same helper guards user data.
func invalidArg(what, why string) error {
	return errorf("%w: %s %s", ErrInvalidArgument, what, why)
}

// The package's messages start with one "visengine: ", however deeply
// errors are wrapped: an error embedded in another's text is printed
// without its own prefix, so a message reads "visengine: submit (draft):
// POST /richiesta: HTTP 402 …", never "visengine: submit: draft:
// visengine: …". errorf applies this to fmt.Errorf; error types that embed
// a cause in Error use bare.
const errPrefix = "visengine: "

// bare is err's text without the package prefix.
func bare(err error) string { return strings.TrimPrefix(err.Error(), errPrefix) }

// bareError prints an error through bare, for errorf's message.
type bareError struct{ err error }

func (b bareError) Error() string { return bare(b.err) }

// errorf is fmt.Errorf with the prefix rule: the message has exactly one
// "visengine: ", at its start, whatever errors it embeds; %w still wraps.
func errorf(format string, args ...any) error {
	shown := make([]any, len(args))
	for i, a := range args {
		if err, ok := a.(error); ok && err != nil {
			a = bareError{err}
		}
		shown[i] = a
	}
	msg := errPrefix + strings.TrimPrefix(fmt.Errorf(format, shown...).Error(), errPrefix)
	return &prefixedError{msg: msg, err: fmt.Errorf(format, args...)}
}

// prefixedError is errorf's result: its own text, and the fmt.Errorf error
// (with the wrapped ones) behind it.
type prefixedError struct {
	msg string
	err error
}

func (e *prefixedError) Error() string { return e.msg }

func (e *prefixedError) Unwrap() error { return e.err }

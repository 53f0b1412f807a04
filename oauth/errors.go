package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/internal/scrub"
)

// ErrUnexpectedResponse reports an answer that is not an OAuth envelope:
// an HTML error page, an empty or truncated body, a redirect, a success
// without the data the call returns.
var ErrUnexpectedResponse = errors.New("oauth: unexpected response")

// Error codes of OAuth v2, the envelope's "error" field (with the HTTP
// status they come with).
const (
	CodeInvalidTokenFormat        = 60  // 422: the path does not hold a token id
	CodeMissingScopes             = 70  // 422 on create: no scopes array
	CodeInvalidScopesFormat       = 80  // 422 on create: a scope is not METHOD:host/segment
	CodeInvalidScopes             = 90  // 422 on create: unknown scope, or the API is not enabled
	CodeUpdateInvalidScopesFormat = 100 // 422 on update
	CodeUpdateInvalidScopes       = 110 // 422 on update
	CodeTokenNotFound             = 120 // 404 on get
	CodeRefreshUnauthorized       = 130 // 401 on update: wrong refresh token
	CodeUnauthorized              = 140 // 401 on update: wrong e-mail or API key
	CodeTokenIDRequired           = 150 // 400 on update
	CodeUpdateTokenNotFound       = 160 // 404 on update
	CodeDeleteTokenIDRequired     = 170 // 400 on delete
	CodeDeleteTokenNotFound       = 180 // 404 on delete
)

// Error codes of OAuth v1. The numbers overlap v2's with other meanings, so
// compare them only with a v1 client's errors.
const (
	CodeV1MissingScopes          = 110 // 406 on create
	CodeV1WrongToken             = 125 // 402 on get: not a token of this account
	CodeV1DeleteSingleTokensOnly = 140 // 403 on delete
	CodeV1DeleteMissingToken     = 150 // 404 on delete
	CodeV1PutSingleTokensOnly    = 160 // 403 on replace
	CodeV1PutMissingToken        = 170 // 404 on replace
	CodeV1InvalidScopes          = 270 // 406 on replace and update
	CodeV1PatchSingleTokensOnly  = 280 // 403 on update
	CodeV1PatchMissingToken      = 290 // 404 on update
	CodeV1MissingScopesAndExpire = 310 // 406 on update: nothing to change
	CodeV1NoCredit               = 320 // 404 on credit: the account has no wallet
	CodeV1WrongDateFormat        = 610 // 404 on counters
)

const (
	maxMessage = 256          // bytes of a server message kept in an error
	redacted   = "[redacted]" // what a secret is replaced with
)

// codeKinds maps each version's documented codes to a sentinel, for
// answers that carry a code with a status that does not say it (HTTP 200
// with "success": false).
var codeKinds = [2]map[int]error{
	{ // v2
		CodeInvalidTokenFormat: visengine.ErrInvalidRequest, CodeMissingScopes: visengine.ErrInvalidRequest,
		CodeInvalidScopesFormat: visengine.ErrInvalidRequest, CodeInvalidScopes: visengine.ErrInvalidRequest,
		CodeUpdateInvalidScopesFormat: visengine.ErrInvalidRequest, CodeUpdateInvalidScopes: visengine.ErrInvalidRequest,
		CodeTokenNotFound: visengine.ErrNotFound, CodeUpdateTokenNotFound: visengine.ErrNotFound,
		CodeDeleteTokenNotFound: visengine.ErrNotFound, CodeRefreshUnauthorized: visengine.ErrUnauthorized,
		CodeUnauthorized: visengine.ErrUnauthorized, CodeTokenIDRequired: visengine.ErrInvalidRequest,
		CodeDeleteTokenIDRequired: visengine.ErrInvalidRequest,
	},
	{ // v1
		CodeV1MissingScopes: visengine.ErrInvalidRequest, CodeV1WrongToken: visengine.ErrNotFound,
		CodeV1DeleteSingleTokensOnly: visengine.ErrUnauthorized, CodeV1DeleteMissingToken: visengine.ErrNotFound,
		CodeV1PutSingleTokensOnly: visengine.ErrUnauthorized, CodeV1PutMissingToken: visengine.ErrNotFound,
		CodeV1InvalidScopes: visengine.ErrInvalidRequest, CodeV1PatchSingleTokensOnly: visengine.ErrUnauthorized,
		CodeV1PatchMissingToken: visengine.ErrNotFound, CodeV1MissingScopesAndExpire: visengine.ErrInvalidRequest,
		CodeV1NoCredit: visengine.ErrNotFound, CodeV1WrongDateFormat: visengine.ErrInvalidRequest,
	},
}

// APIError is an answer that is not a success: an envelope with
// "success": false or an error status, or an answer that is not an
// envelope at all. It matches, with errors.Is, the root package's
// sentinels as a visengine.APIError does: visengine.ErrUnauthorized (401,
// 403), visengine.ErrNotFound (404; v1's 402 "Wrong Token"),
// visengine.ErrInvalidRequest (400, 406, 422), visengine.ErrInsufficientCredit
// (another 402), and ErrUnexpectedResponse.
type APIError struct {
	StatusCode int    // HTTP status
	Code       int    // the envelope's "error" code; 0 when absent
	Message    string // the server's message, cleaned and without secrets; or what was wrong with the answer
	Method     string // HTTP method of the call
	Path       string // the call's path, "{token}" in place of a token

	v1         bool  // the code is a v1 code
	unexpected bool  // not an envelope
	kindOf     error // a sentinel fixed by the call (v1's 204 for a token)
}

// Error implements error. It names the call, the status, the code and the
// message; never the credentials or a token.
func (e *APIError) Error() string {
	if e == nil {
		return "oauth: <nil APIError>"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "oauth: %s %s: HTTP %d", e.Method, e.Path, e.StatusCode)
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteString(" " + t)
	}
	if e.Code != 0 {
		fmt.Fprintf(&b, " (error %d)", e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// Is matches the sentinel the status and code stand for.
func (e *APIError) Is(target error) bool {
	if e == nil {
		return false
	}
	if target == ErrUnexpectedResponse {
		return e.unexpected
	}
	k := e.kind()
	return k != nil && k == target
}

func (e *APIError) kind() error {
	if e.kindOf != nil {
		return e.kindOf
	}
	switch s := e.StatusCode; {
	case s == http.StatusUnauthorized, s == http.StatusForbidden:
		return visengine.ErrUnauthorized
	case s == http.StatusNotFound:
		return visengine.ErrNotFound
	case s == http.StatusPaymentRequired && e.v1 && e.Code == CodeV1WrongToken:
		return visengine.ErrNotFound
	case s == http.StatusPaymentRequired:
		return visengine.ErrInsufficientCredit
	case s == http.StatusBadRequest, s == http.StatusNotAcceptable, s == http.StatusUnprocessableEntity:
		return visengine.ErrInvalidRequest
	case s/100 == 2 && !e.unexpected:
		return codeKinds[b2i(e.v1)][e.Code]
	}
	return nil
}

// Temporary reports whether the same call may succeed later: 429 or a
// server error other than 501.
func (e *APIError) Temporary() bool {
	if e == nil {
		return false
	}
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500 && e.StatusCode != http.StatusNotImplemented
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// invalidArg builds an error matching visengine.ErrInvalidArgument. The
// value itself is never included: it may be a credential or a token.
func invalidArg(what, why string) error {
	return fmt.Errorf("oauth: %s %s: %w", what, why, visengine.ErrInvalidArgument)
}

// envelope is Openapi's answer around payloads and errors.
type envelope struct {
	Data    json.RawMessage `json:"data"`
	Success json.RawMessage `json:"success"`
	Message json.RawMessage `json:"message"`
	Error   json.RawMessage `json:"error"`
}

// check turns an answer that is not a success into an *APIError. A 2xx
// answer passes unless its envelope says "success": false; the call's own
// decoding then says whether it holds what it should.
func (c *Client) check(r request, resp *response) error {
	s := resp.status
	var env envelope
	isJSON := json.Unmarshal(resp.body, &env) == nil
	switch {
	case s/100 == 2 && (len(bytes.TrimSpace(resp.body)) == 0 || isJSON && !isFalse(env.Success)):
		return nil
	case s/100 == 2 && !isJSON:
		return c.unexpected(r, s, "body is not a JSON envelope (%d bytes)", len(resp.body))
	case s/100 == 3:
		return c.unexpected(r, s, "redirect not followed")
	case !isJSON:
		e := c.unexpected(r, s, "body is not a JSON envelope (%d bytes)", len(resp.body))
		return e
	}
	return &APIError{
		StatusCode: s, Code: envelopeCode(env.Error), Method: r.method, Path: r.route, v1: c.v1,
		Message: c.scrub(envelopeMessage(env.Message), r.secret),
	}
}

func isFalse(raw json.RawMessage) bool {
	s := strings.Trim(string(bytes.TrimSpace(raw)), `"`)
	return s == "false" || s == "0"
}

func envelopeCode(raw json.RawMessage) int {
	s := strings.Trim(string(bytes.TrimSpace(raw)), `"`)
	if v, err := strconv.Atoi(s); err == nil {
		return v
	}
	return 0
}

func envelopeMessage(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if t := string(bytes.TrimSpace(raw)); t != "null" {
		return t // a message that is itself JSON, shown compactly
	}
	return ""
}

// tokenShaped finds runs of hex digits long enough to be a token (Openapi's
// are 24), so that a server message quoting some token is not repeated.
var tokenShaped = regexp.MustCompile(`[0-9A-Fa-f]{20,}`)

// scrub makes a server's (or a transport's) text safe to show: no
// credential, no token, no control or bidirectional-override characters,
// at most maxMessage bytes.
func (c *Client) scrub(s string, extra ...string) string {
	for _, secret := range append(append([]string(nil), c.secrets...), extra...) {
		if len(secret) >= 4 {
			s = scrub.ReplaceFold(s, secret, redacted)
		}
	}
	s = tokenShaped.ReplaceAllString(s, redacted)
	return cleanMessage(s)
}

// cleanMessage keeps a message printable and short, so that a hostile or
// broken server cannot flood logs or forge lines (or reorder them with
// bidirectional overrides) through our errors.
func cleanMessage(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r), r == '\u2028', r == '\u2029':
			return ' '
		case r == unicode.ReplacementChar:
			return '?'
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	s = strings.TrimSpace(s)
	if len(s) <= maxMessage {
		return s
	}
	cut := maxMessage
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

// transportError is a failure without an answer. Its text is scrubbed:
// net/http's errors quote the URL, whose path may hold a token, and a
// custom transport's errors may say anything. Unwrap keeps only causes that
// cannot carry the URL (the context's errors, dial and DNS failures), so
// walking the chain does not reach the raw text either.
type transportError struct {
	msg   string
	cause error
}

func (e *transportError) Error() string { return e.msg }
func (e *transportError) Unwrap() error { return e.cause }

func (c *Client) transportError(r request, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	te := &transportError{msg: fmt.Sprintf("oauth: %s %s: %s", r.method, r.route, c.scrub(err.Error(), r.secret))}
	var op *net.OpError
	var dns *net.DNSError
	switch {
	case errors.Is(err, context.Canceled):
		te.cause = context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		te.cause = context.DeadlineExceeded
	case errors.As(err, &op):
		te.cause = op
	case errors.As(err, &dns):
		te.cause = dns
	}
	return te
}

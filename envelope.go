package visengine

// The response path: every answer is read once, as a stream, by one
// scanner (internal/docstream's Reader) that decodes the envelope and, for
// the results that know how, the data inside it. Nothing holds the body:
// memory follows what is returned, and the call's context is checked at
// each read of the body, so a cancelled call stops in the middle of a large
// answer.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/visengine-go/visengine/internal/docstream"
	"github.com/visengine-go/visengine/internal/transport"
)

// decodeResult turns an answer into out or a typed error, and returns the
// envelope's "message". An *APIError it returns names the call. okLimit
// caps a 2xx body (maxResponseBody; tests lower it), maxErrorBody any other.
func decodeResult(ctx context.Context, resp *http.Response, call *transport.Call, okLimit int64, out any) (string, error) {
	status := resp.StatusCode
	limit := int64(maxErrorBody)
	if status/100 == 2 {
		limit = okLimit
	}
	msg, err := interpret(ctx, status, resp.Body, limit, out)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Method == "" {
		apiErr.Method, apiErr.Path = call.Method, call.Path
		apiErr.RetryAfter = retryAfter(resp)
	}
	var unread *unreadError
	if errors.As(err, &unread) && unread.ctx {
		err = errorf("visengine: %s %s: %w", call.Method, call.Path, err)
	}
	if err != nil && !call.Idempotent && unknownOutcome(status, err) {
		return "", &OutcomeUnknownError{Method: call.Method, Path: call.Path, SentAt: call.SentAt(), Err: err}
	}
	return msg, err
}

// unreadError is an answer that could not be read to its end: the
// connection failed or was cut, or the call's context ended (ctx), which
// decodeResult reports with the call's name, as send does.
type unreadError struct {
	status int
	ctx    bool
	err    error
}

func (e *unreadError) Error() string {
	if e.ctx {
		return fmt.Sprintf("answer (HTTP %d) left unread: %v", e.status, e.err)
	}
	return e.err.Error()
}

func (e *unreadError) Unwrap() error { return e.err }

// unknownOutcome says whether a non-idempotent call with this answer may
// still have been applied: a 5xx comes from a server or gateway that may have
// done the work, a 3xx (303 above all) often follows work done, and an
// answer cut short (or left unread) hides whether it did. A 2xx means
// the server took the call (and, for a paid one, charged it): unless the
// answer is a readable envelope with "success": false, a known refusal,
// whatever we could not interpret (no envelope, data we cannot decode, a body
// over the cap) hides an outcome that was probably a success, so it must not
// read as a plain failure that invites sending the call again.
func unknownOutcome(status int, err error) bool {
	var unread *unreadError
	if errors.As(err, &unread) || status/100 != 2 && status/100 != 4 {
		return true // 5xx, and 3xx: "done, see elsewhere" after a POST
	}
	if status/100 != 2 {
		return false
	}
	var apiErr *APIError
	return !errors.As(err, &apiErr) || apiErr.unexpected
}

// interpret reads an answer with status from body (at most limit bytes)
// and decodes its data into out, which may be nil.
func interpret(ctx context.Context, status int, body io.Reader, limit int64, out any) (string, error) {
	w := newWireReader(body, limit, ctx.Err)
	defer w.Release()
	var env envelope
	var err error
	if status/100 != 3 {
		err = env.read(w, out, status/100 == 2)
	}
	if status/100 == 3 || err != nil || env.invalid {
		return "", bodyError(ctx, w, status, limit)
	}
	if status/100 != 2 || !env.success {
		return "", env.apiError(status)
	}
	if out == nil {
		return env.message, nil
	}
	if env.data == 0 || env.data == 'n' {
		return "", unexpectedResponse(status, "success without data")
	}
	if env.raw != nil {
		if err := json.Unmarshal(env.raw, out); err != nil {
			env.dataErr = err
		}
	}
	if env.dataErr != nil {
		return "", unexpectedResponse(status, "decoding data: %s", describeJSONError(env.dataErr))
	}
	return env.message, nil
}

// bodyError is the error for an answer that is not a readable envelope (or
// a redirect). The rest of the body is read first, up to the cap, as a
// whole-body read would: a body cut short, or over the cap, is reported as
// such even when what came before it was not JSON.
func bodyError(ctx context.Context, w *wireReader, status int, limit int64) error {
	n, err := w.Drain()
	switch {
	case ctx.Err() != nil:
		return &unreadError{status: status, ctx: true, err: ctx.Err()}
	case errors.Is(err, docstream.ErrTooLarge):
		return unexpectedResponse(status, "body larger than %d bytes", limit)
	case err != nil:
		return &unreadError{status: status, err: readFailure(status, err)}
	case status/100 == 3:
		return unexpectedResponse(status, "redirect not followed")
	}
	return unexpectedResponse(status, "body is not a Visengine JSON envelope (%d bytes)", n)
}

// envelope is what was read of Visengine's answer around every payload.
// Keys match as encoding/json matches them (case-insensitively), and the
// last of a repeated key wins.
type envelope struct {
	success bool   // "success": true; false when false, null or absent
	found   bool   // "success" is true or false
	invalid bool   // a value has a type encoding/json would refuse: not an envelope
	message string // "message" when it is a string
	code    []byte // "error" as sent, when a number or a string
	data    byte   // the first byte of "data"; 0 when absent
	raw     []byte // "data" as sent, for outs decoded with encoding/json
	dataErr error  // what is wrong with "data", when out could not be filled
}

// read reads the envelope and, when want is set, decodes its data into out.
func (env *envelope) read(w *wireReader, out any, want bool) error {
	c, err := w.Kind()
	if err != nil {
		return err
	}
	switch c {
	case '{':
		err = w.Object(func(key []byte) error { return env.member(w, key, out, want) })
	case 'n':
		err = w.Literal() // null decodes as an empty envelope
	default:
		env.invalid = true
		err = w.Skip()
	}
	if err != nil {
		return err
	}
	return w.Finish()
}

func (env *envelope) member(w *wireReader, key []byte, out any, want bool) error {
	c, err := w.Kind()
	if err != nil {
		return err
	}
	var buf foldBuf
	switch string(buf.fold(key)) {
	case "data":
		return env.readData(w, c, out, want)
	case "success":
		env.found, env.success = c == 't' || c == 'f', c == 't'
		env.invalid = env.invalid || c != 't' && c != 'f' && c != 'n'
	case "message":
		env.message = ""
		if c == '"' {
			env.message, err = w.String()
			return err
		}
	case "error":
		env.code = env.code[:0]
		if c == '"' || c == '-' || '0' <= c && c <= '9' {
			env.code, err = w.AppendRaw(env.code)
			return err
		}
	}
	return w.Skip()
}

// readData decodes data into out straight from the stream when out knows
// how (wireDecoder), or keeps its text for encoding/json. It is read even
// before "success" is known (keys come in any order); its problems are
// reported only if the envelope turns out to be a success.
func (env *envelope) readData(w *wireReader, c byte, out any, want bool) error {
	env.data, env.raw, env.dataErr, w.err = c, nil, nil, nil
	if c == 'n' || out == nil || !want {
		return w.Skip()
	}
	var err error
	if d, ok := out.(wireDecoder); ok {
		err = d.decodeWire(w)
	} else {
		env.raw, err = w.Raw()
	}
	env.dataErr = w.err
	return err
}

// apiError builds the error for an envelope that is not a success.
func (env *envelope) apiError(status int) error {
	if !env.found && status/100 == 2 {
		return unexpectedResponse(status, `envelope without "success"`)
	}
	return newAPIError(status, envelopeCode(env.code), env.message)
}

// envelopeCode reads "error" as a number or a numeric string; 0 otherwise.
func envelopeCode(raw []byte) int {
	s := strings.Trim(string(bytes.TrimSpace(raw)), `"`)
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return int(v)
	}
	return 0
}

// describeJSONError names what was wrong without quoting the input, which
// may hold personal data.
func describeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fmt.Sprintf("field %q: unexpected JSON %s", te.Field, te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("JSON syntax error at byte %d", se.Offset)
	case errors.Is(err, ErrUnexpectedResponse), errors.Is(err, ErrBadPrice):
		return err.Error() // our decoders' own messages never quote the input
	}
	return "invalid JSON"
}

// wireDecoder is implemented by the results decoded straight from the
// stream. decodeWire reads one value into its receiver, replacing what was
// there; it returns the reader's errors (the body is not JSON, or could not
// be read) and reports through w.fail a value that is JSON but not what was
// expected, going on to the end of the value.
type wireDecoder interface {
	decodeWire(w *wireReader) error
}

// wireReader is the stream with what the decoders share.
type wireReader struct {
	*docstream.Reader
	err     error             // the first problem with the value being decoded
	scratch []byte            // for short values, reused
	names   map[string]string // repeated short strings (states, hashes), shared
}

// newWireReader reads body, at most limit bytes, calling check (when not
// nil) before each read of it: a context's Err.
func newWireReader(body io.Reader, limit int64, check func() error) *wireReader {
	return &wireReader{Reader: docstream.NewReader(body, limit, check)}
}

// fail records a problem with the value being decoded; the first one is
// reported, as encoding/json would.
func (w *wireReader) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// typeError is encoding/json's error for a value of kind c where type t
// was expected, for describeJSONError.
func typeError(c byte, t reflect.Type, field string) error {
	v := "number"
	switch c {
	case '{':
		v = "object"
	case '[':
		v = "array"
	case '"':
		v = "string"
	case 't', 'f':
		v = "bool"
	}
	return &json.UnmarshalTypeError{Value: v, Type: t, Field: field}
}

// foldBuf holds a key folded for matching.
type foldBuf [24]byte

// fold returns key as encoding/json matches it against the decoders' names,
// which are lower-case ASCII: ASCII letters in either case, and 'ſ' and the
// Kelvin sign, which Unicode folds to 's' and 'k' (the only non-ASCII runes
// that fold to ASCII). A key that cannot match any name gives "".
func (b *foldBuf) fold(key []byte) []byte {
	out := b[:0]
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case len(out) == len(b):
			return nil
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case c < utf8.RuneSelf:
		case bytes.HasPrefix(key[i:], []byte("ſ")):
			c, i = 's', i+len("ſ")-1
		case bytes.HasPrefix(key[i:], []byte("\u212a")):
			c, i = 'k', i+len("\u212a")-1
		default:
			return nil
		}
		out = append(out, c)
	}
	return out
}

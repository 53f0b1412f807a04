package visengine

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/visengine-go/visengine/internal/scrub"
)

// A server message may repeat what the call sent: Visengine's 400/412/422
// messages quote the applicant's input ("error in the input data: …", codes
// 229 and 250), and a gateway's 401 may quote the bearer token. The answer
// is decoded where the call is still known, so the token and every string
// the call's body carried are taken out of the message there, once, before
// it reaches an *APIError (and from it an error string, a log or a
// terminal). Cutting the message after ": " (as Error does for a 412) is not
// enough: codes 229 and 250 come with 400 and 422 too.

// minEcho is the shortest sent value scrubbed from messages: shorter ones
// ("si", "1") are not personal data and would mangle every message.
const minEcho = 3

// echoes is what one call sent that its answer may repeat.
type echoes struct {
	token string // the bearer token the last attempt carried
	body  []byte // the JSON body sent, or nil
}

// scrubError scrubs the Message of the *APIError in err, if any.
func (e echoes) scrubError(err error) {
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr != nil && !apiErr.unexpected {
		apiErr.Message = e.scrub(apiErr.Message)
	}
}

// scrub replaces in msg, ignoring case, the token and every string value of
// the body with "[redacted]".
func (e echoes) scrub(msg string) string {
	if msg == "" {
		return msg
	}
	if len(e.token) >= minEcho {
		msg = scrub.ReplaceFold(msg, e.token, redactedText)
	}
	for _, v := range sentStrings(e.body) {
		msg = scrub.ReplaceFold(msg, v, redactedText)
		if t := strings.TrimSpace(v); t != v && len(t) >= minEcho {
			msg = scrub.ReplaceFold(msg, t, redactedText)
		}
	}
	return msg
}

// sentStrings lists the string values (not the keys) anywhere in a JSON
// body, at least minEcho bytes long, longest first so that a value holding
// another is replaced whole. It runs on the error path only.
func sentStrings(body []byte) []string {
	var v any
	if len(body) == 0 || json.Unmarshal(body, &v) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			if len(v) >= minEcho {
				out = append(out, v)
			}
		case map[string]any:
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

package oauthfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

// maxBody caps a request body; a token request is a few hundred bytes.
const maxBody = 1 << 20

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// obj is a JSON object written with its keys in the order given: the
// specs' examples and schemas order their keys, and a client that reads
// them as a stream, or a person comparing answers, sees the same text (a
// map would sort the keys).
type obj []member

// member is one key of an obj.
type member struct {
	k string
	v any
}

// MarshalJSON writes the members in order.
func (o obj) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, m := range o {
		if i > 0 {
			b = append(b, ',')
		}
		k, err := json.Marshal(m.k)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(m.v)
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}

// fail writes the specs' error envelope, keys in the examples' order. A
// zero code is written as null, for the errors the specs give no code.
func fail(w http.ResponseWriter, status, code int, msg string) {
	var c any
	if code != 0 {
		c = code
	}
	writeJSON(w, status, obj{{"success", false}, {"message", msg}, {"error", c}, {"data", nil}})
}

// v1OK wraps a v1 payload: v1 answers carry the whole envelope.
func v1OK(data any) obj {
	return obj{{"data", data}, {"success", true}, {"message", ""}, {"error", nil}}
}

// readBody decodes a JSON request body into v; false if it is not JSON.
func readBody(r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	return err == nil && json.Unmarshal(b, v) == nil
}

// isoTime formats a v2 time, as the spec's examples do.
func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// euro formats an amount in millionths of a euro as a JSON number in euro,
// with the decimals it needs, at least two ("423.38", "-0.001").
func euro(micros int64) json.Number {
	sign := ""
	u := uint64(micros)
	if micros < 0 {
		sign, u = "-", -u
	}
	frac := strings.TrimRight(fmt.Sprintf("%06d", u%1e6), "0")
	for len(frac) < 2 {
		frac += "0"
	}
	return json.Number(fmt.Sprintf("%s%d.%s", sign, u/1e6, frac))
}

// scopeSyntax is METHOD:host/segment, with '*' allowed in each part.
var scopeSyntax = regexp.MustCompile(`^(?i:GET|POST|PUT|PATCH|DELETE|\*):[A-Za-z0-9.*-]+/[A-Za-z0-9_.*-]*$`)

// scopeError says why requested scopes cannot be granted.
type scopeError int

const (
	scopesOK      scopeError = iota
	scopesMissing            // not a non-empty list
	scopesFormat             // an element is not METHOD:host/segment
	scopesUnknown            // an element names no available scope
)

// expand turns requested scopes, wildcards included, into the available
// scopes they name, in order and without repeats, as v1's "A list of the
// scopes you requested, expanded" describes.
func (s *Server) expand(raw json.RawMessage) ([]string, scopeError) {
	var req []string
	if json.Unmarshal(raw, &req) != nil || len(req) == 0 {
		var list []any
		if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
			return nil, scopesFormat
		}
		return nil, scopesMissing
	}
	var out []string
	for _, r := range req {
		if !scopeSyntax.MatchString(r) {
			return nil, scopesFormat
		}
		n := len(out)
		for _, a := range s.available {
			if scopeCovers(r, a) && !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
		if len(out) == n && !slices.ContainsFunc(out, func(a string) bool { return scopeCovers(r, a) }) {
			return nil, scopesUnknown
		}
	}
	return out, scopesOK
}

// scopeCovers reports whether pattern (a requested scope, maybe with
// wildcards) names scope. Methods and hosts compare without case.
func scopeCovers(pattern, scope string) bool {
	pm, prest, _ := strings.Cut(pattern, ":")
	sm, srest, _ := strings.Cut(scope, ":")
	ph, pseg, _ := strings.Cut(prest, "/")
	sh, sseg, _ := strings.Cut(srest, "/")
	return glob(strings.ToUpper(pm), strings.ToUpper(sm)) && glob(strings.ToLower(ph), strings.ToLower(sh)) && glob(pseg, sseg)
}

// glob matches s against a pattern where '*' stands for any run of
// characters.
func glob(pattern, s string) bool {
	p, i, star, mark := 0, 0, -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p, mark = star+1, mark+1
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

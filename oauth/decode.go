package oauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/visengine-go/visengine"
)

// The two OAuth versions and their examples disagree on shapes: v1 gives
// times as unix seconds and v2 as ISO 8601, counters come as numbers or
// strings (or false for "no limit"), a payload sits at the top level, under
// "data", or under "data" as a one-element list. The types below accept
// each of these shapes and nothing else: an answer that matches none of
// them is an error, not a zero value.

var errShape = errors.New("unexpected JSON shape")

// isNull reports whether raw is absent, null, or one of PHP's empty shapes
// for "nothing" (false, "").
func isNull(raw []byte) bool {
	s := string(bytes.TrimSpace(raw))
	return s == "" || s == "null" || s == "false" || s == `""`
}

// flexTime is a time given as unix seconds (number or numeric string; in
// milliseconds when too large for seconds), or as an ISO 8601 string with
// or without zone (then UTC).
type flexTime struct{ t time.Time }

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"}

func (f *flexTime) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		f.t = time.Time{}
		return nil
	}
	s := strings.Trim(string(bytes.TrimSpace(b)), `"`)
	if n, err := strconv.ParseFloat(s, 64); err == nil && isNumber(s) {
		// Seconds past 10^11 would be the year 5138: take them as milliseconds.
		if n > 1e11 || n < -1e11 {
			n /= 1000
		}
		if n > 1e11 || n < -1e11 {
			return fmt.Errorf("time %w: out of range", errShape)
		}
		sec := int64(n)
		f.t = time.Unix(sec, int64((n-float64(sec))*1e9)).UTC()
		return nil
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			f.t = t
			return nil
		}
	}
	return fmt.Errorf("time %w", errShape)
}

func isNumber(s string) bool {
	return s != "" && strings.Trim(s, "0123456789.-+eE") == ""
}

// flexInt is a count given as a number or a numeric string; false and null
// (a limit that is off) are zero.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		*f = 0
		return nil
	}
	s := strings.Trim(string(bytes.TrimSpace(b)), `"`)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*f = flexInt(n)
		return nil
	}
	// 1234.0 or 1e3: accepted when it is a whole number within int64.
	if r, ok := new(big.Rat).SetString(s); ok && isNumber(s) && r.IsInt() && r.Num().IsInt64() {
		*f = flexInt(r.Num().Int64())
		return nil
	}
	return fmt.Errorf("count %w", errShape)
}

// flexStrings is a list of strings, or one string, or null.
type flexStrings []string

func (f *flexStrings) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		*f = nil
		return nil
	}
	var one string
	if json.Unmarshal(b, &one) == nil {
		*f = flexStrings{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("list of strings %w", errShape)
	}
	*f = many
	return nil
}

// money is an amount in euro decoded from the JSON number's text, exact to
// the millionth of a euro (visengine.Price's unit). Finer amounts are
// rounded down, never up, so a credit check never overstates what can be
// paid.
type money visengine.Price

func (m *money) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		*m = money{}
		return nil
	}
	p, err := parseMoney(strings.Trim(string(bytes.TrimSpace(b)), `"`))
	if err != nil {
		return err
	}
	*m = money(p)
	return nil
}

// parseMoney reads a decimal amount in euro exactly to the millionth,
// rounding a finer fraction down (toward negative infinity). The digits are
// cut as text, so no float is involved.
func parseMoney(s string) (visengine.Price, error) {
	const places = 6 // visengine.Price's unit, 10^-6 euro
	intPart, frac, ok := strings.Cut(s, ".")
	if !ok || len(frac) <= places || strings.Trim(frac, "0123456789") != "" {
		p, err := visengine.ParsePrice(s)
		if err != nil {
			return visengine.Price{}, fmt.Errorf("amount %w", errShape)
		}
		return p, nil
	}
	p, err := visengine.ParsePrice(intPart + "." + frac[:places])
	if err != nil {
		return visengine.Price{}, fmt.Errorf("amount %w", errShape)
	}
	if strings.HasPrefix(intPart, "-") && strings.Trim(frac[places:], "0") != "" {
		p = p.Sub(visengine.Micros(1)) // -0.0000001 is below -0.000000: floor to -0.000001
	}
	return p, nil
}

// payload finds where an answer keeps its object or list: under "data"
// when it is not null (and inside a nested "data", as v1's scopes example
// has it), else the top level.
func payload(body []byte) (json.RawMessage, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		var list []json.RawMessage
		if json.Unmarshal(body, &list) == nil {
			return body, nil
		}
		return nil, fmt.Errorf("body %w", errShape)
	}
	data, ok := top["data"]
	if !ok || isNull(data) {
		return body, nil
	}
	return data, nil
}

// items returns raw as a list: itself when it is an array, a one-element
// list when it is an object.
func items(raw json.RawMessage) ([]json.RawMessage, error) {
	switch t := bytes.TrimSpace(raw); {
	case len(t) > 0 && t[0] == '[':
		var list []json.RawMessage
		if err := json.Unmarshal(t, &list); err != nil {
			return nil, fmt.Errorf("list %w", errShape)
		}
		return list, nil
	case len(t) > 0 && t[0] == '{':
		return []json.RawMessage{t}, nil
	}
	return nil, fmt.Errorf("payload %w", errShape)
}

// describeJSONError names what was wrong with an answer without quoting
// it: the answer may hold tokens.
func describeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fmt.Sprintf("field %q: unexpected JSON %s", te.Field, te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("JSON syntax error at byte %d", se.Offset)
	case errors.Is(err, errShape):
		return err.Error() // our own messages never quote the input
	}
	return "invalid JSON"
}

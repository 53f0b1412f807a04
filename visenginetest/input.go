package visenginetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/visengine-go/visengine"
)

// The server is written in PHP and reads bodies loosely: a missing key, a
// null and a body that is not JSON at all look the same, numbers may come as
// strings. These helpers read the same way, and never fail on bad input
// other than by saying it is bad.

var errBadInput = errors.New("bad input")

// postBody is the body of POST /richiesta.
type postBody struct {
	HashVisura   json.RawMessage `json:"hash_visura"`
	JSONVisura   json.RawMessage `json:"json_visura"`
	State        json.RawMessage `json:"state"`
	Test         json.RawMessage `json:"test"`
	CallbackData json.RawMessage `json:"callback_data"`
	EmailTarget  json.RawMessage `json:"email_target"`
	Opzioni      json.RawMessage `json:"opzioni"`
}

// decodeObject reads body into a map of raw values; anything but a JSON
// object gives an empty map, as PHP's json_decode would give null, and
// ok false.
func decodeObject(body []byte) (m map[string]json.RawMessage, ok bool) {
	if json.Unmarshal(body, &m) != nil || m == nil {
		return map[string]json.RawMessage{}, false
	}
	return m, true
}

// absent reports a missing key or a JSON null.
func absent(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// scalarText returns a string, number or boolean as text; ok is false for
// null, objects and arrays.
func scalarText(raw json.RawMessage) (string, bool) {
	var v any
	if absent(raw) || json.Unmarshal(raw, &v) != nil {
		return "", false
	}
	switch x := v.(type) {
	case string:
		return x, true
	case float64:
		return strings.TrimSpace(string(raw)), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// flag reads true, 1, "1", "true" as true and everything else as false.
func flag(raw json.RawMessage) bool {
	s, _ := scalarText(raw)
	return s == "true" || s == "1"
}

// readState reads "state": absent means def; 0/1 (or "0"/"1", false/true)
// otherwise, anything else is bad input.
func readState(raw json.RawMessage, def int) (int, error) {
	if absent(raw) {
		return def, nil
	}
	switch s, _ := scalarText(raw); s {
	case "1", "true":
		return 1, nil
	case "0", "false":
		return 0, nil
	}
	return 0, errBadInput
}

// readValues reads json_visura: an object whose values are strings (numbers
// and booleans are taken as their text, null as empty).
func readValues(raw json.RawMessage) (map[string]string, error) {
	out := map[string]string{}
	if absent(raw) {
		return out, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, errBadInput
	}
	for k, v := range m {
		s, ok := scalarText(v)
		if !ok && !absent(v) {
			return nil, errBadInput
		}
		out[k] = s
	}
	return out, nil
}

// readEmail reads email_target: absent or empty means none; otherwise it
// must be an address.
func readEmail(raw json.RawMessage) (*string, error) {
	if absent(raw) {
		return nil, nil
	}
	s, ok := scalarText(raw)
	s = strings.TrimSpace(s)
	if !ok {
		return nil, errBadInput
	}
	if s == "" {
		return nil, nil
	}
	if !validEmail(s) {
		return nil, errBadInput
	}
	return &s, nil
}

// validEmail is a plain local@domain.tld check, close to PHP's
// FILTER_VALIDATE_EMAIL for ordinary addresses.
func validEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || len(s) > 254 || strings.ContainsAny(s, " \t\r\n<>()[],;:\"\\") {
		return false
	}
	dot := strings.LastIndexByte(domain, '.')
	return dot > 0 && dot < len(domain)-2 && !strings.Contains(domain, "..") && !strings.Contains(domain, "@")
}

// readCallback keeps callback_data as sent when it is an object; anything
// else means no callback ("callback_data": false on the wire).
func readCallback(raw json.RawMessage) json.RawMessage {
	var m map[string]json.RawMessage
	if absent(raw) || json.Unmarshal(raw, &m) != nil || m == nil {
		return nil
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return nil
	}
	return buf.Bytes()
}

// readOptions reads opzioni, {"opzione_0": true}, keyed by the option's nome
// (its tipo is accepted too). An array of names is accepted as well. An
// option the service does not offer is bad input.
func readOptions(svc *service, raw json.RawMessage) ([]visengine.Opzione, error) {
	if absent(raw) || string(bytes.TrimSpace(raw)) == "false" {
		return nil, nil
	}
	names, err := optionNames(raw)
	if err != nil {
		return nil, err
	}
	var out []visengine.Opzione
	for _, n := range names {
		o, ok := svc.v.Opzione(n)
		if !ok {
			return nil, errBadInput
		}
		out = append(out, *o)
	}
	return out, nil
}

func optionNames(raw json.RawMessage) ([]string, error) {
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list, nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil, errBadInput
	}
	for k, v := range m {
		if flag(v) {
			list = append(list, k)
		}
	}
	return list, nil
}

// readIndice reads the "indice" of PUT …/ricerche: an integer, or a numeric
// string as the PHP SDK sends it ("1", even "indice_1"). ok is false when it
// is missing or not a number.
func readIndice(raw json.RawMessage) (n int, ok bool) {
	s, isScalar := scalarText(raw)
	if !isScalar || s == "true" || s == "false" {
		return 0, false
	}
	s = strings.TrimPrefix(strings.TrimSpace(s), "indice_")
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// validID accepts what an id can be in a path: letters and digits. Ids the
// fake issues are 24 hex digits; other well-formed ids are simply unknown
// (404), as in the spec's examples.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/visengine-go/visengine"
)

// An APPLICANT.json is one JSON object whose keys are fields, by key ("$4")
// or by name as the service spells it ("CODICE FISCALE", in any case), and
// whose values are strings. A file field's value "@scan.pdf" names a file to
// read, inside the JSON file's folder (applicant_file.go). Errors name the line and the
// field, never a value: a key that is not a field's name may be a value put
// in the wrong place, so it is not repeated either.

// applicantEntry is one key of the object, with the line it is on.
type applicantEntry struct {
	key, value string
	line       int
}

// readApplicant reads the applicant in path as Values for v. The file
// must be a regular one of at most maxApplicantSize bytes (readCapped).
func readApplicant(path string, v *visengine.Visura) (visengine.Values, error) {
	b, err := readCapped(nil, path, maxApplicantSize)
	if err != nil {
		return nil, msgErr("applicantFile", path, err)
	}
	entries, err := parseApplicant(b)
	if err != nil {
		return nil, msgErr("flagErr", path, err)
	}
	values := visengine.Values{}
	seen := map[string]int{} // field key → line
	for _, e := range entries {
		f, ok := v.Field(e.key)
		if !ok {
			return nil, msgErr("notAField", path, e.line, unknownKey(e.key), v.HashVisura, closestNames(v, e.key))
		}
		label := fieldLabel(f.Nome, f.Key)
		if prev, dup := seen[f.Key]; dup {
			return nil, msgErr("givenTwice", path, e.line, label, prev)
		}
		seen[f.Key] = e.line
		value := e.value
		if f.Tipo == "file" && strings.HasPrefix(value, "@") {
			if value, err = readFileValue(filepath.Dir(path), value[1:]); err != nil {
				return nil, msgErr("lineErr", path, e.line, label, err)
			}
		}
		values.Set(f.Key, value)
	}
	return values, nil
}

// unknownKey describes a key that names no field without quoting it,
// unless it is a key such as "$9", which cannot be personal data.
func unknownKey(k string) any {
	if len(k) > 1 && k[0] == '$' && strings.Trim(k[1:], "0123456789") == "" && len(k) < 8 {
		return k
	}
	return textKey("theKey")
}

// maxClosest bounds the field names an unknown key's error suggests.
const maxClosest = 5

// closestNames quotes the names of v's fields closest to key, for an
// error: field names are not personal data, and the key is not printed.
func closestNames(v *visengine.Visura, key string) string {
	names := v.FieldNamesClosest(key)
	more := ""
	if len(names) > maxClosest {
		names, more = names[:maxClosest], ", …"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(clean(n))
	}
	return strings.Join(q, ", ") + more
}

// parseApplicant reads the object's entries in order. It walks the tokens
// itself, rather than decoding a map, to report duplicates and lines.
func parseApplicant(b []byte) ([]applicantEntry, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil {
		return nil, jsonError(b, dec, err)
	} else if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, msgErr("notObject")
	}
	var entries []applicantEntry
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, jsonError(b, dec, err)
		}
		line := lineAt(b, dec.InputOffset())
		vt, err := dec.Token()
		if err != nil {
			return nil, jsonError(b, dec, err)
		}
		switch v := vt.(type) {
		case string:
			entries = append(entries, applicantEntry{key: strings.TrimSpace(kt.(string)), value: v, line: line})
		case nil: // null: not filled
		default:
			return nil, msgErr("notString", line)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, jsonError(b, dec, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, msgErr("moreAfter", lineAt(b, dec.InputOffset()))
	}
	return entries, nil
}

// jsonError says where the JSON broke, without encoding/json's message,
// which quotes the offending character (it may be in a value).
func jsonError(b []byte, dec *json.Decoder, err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return msgErr("badJSON", lineAt(b, se.Offset))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return msgErr("shortJSON")
	}
	return msgErr("badJSON", lineAt(b, dec.InputOffset()))
}

// lineAt is the 1-based line of byte offset off in b.
func lineAt(b []byte, off int64) int {
	off = min(max(off, 0), int64(len(b)))
	return bytes.Count(b[:off], []byte{'\n'}) + 1
}

// withoutPath strips the path from a file system error.
func withoutPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

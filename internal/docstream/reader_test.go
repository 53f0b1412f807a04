package docstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodeAny decodes the next value through the Reader as encoding/json
// decodes into an any with UseNumber.
func decodeAny(r *Reader) (any, error) {
	c, err := r.Kind()
	if err != nil {
		return nil, err
	}
	switch c {
	case '{':
		m := map[string]any{}
		err := r.Object(func(key []byte) error {
			if key == nil {
				return errLongKey
			}
			k := string(fixUTF8(nil, key))
			v, err := decodeAny(r)
			m[k] = v
			return err
		})
		return m, err
	case '[':
		a := []any{}
		err := r.Array(func() error {
			v, err := decodeAny(r)
			a = append(a, v)
			return err
		})
		return a, err
	case '"':
		return r.String()
	case 't', 'f', 'n':
		err := r.Literal()
		return map[byte]any{'t': true, 'f': false, 'n': nil}[c], err
	}
	b, err := r.Number(nil)
	return json.Number(b), err
}

// errLongKey marks keys longer than the Reader passes on: those inputs are
// not compared.
var errLongKey = errors.New("long key")

// readAll decodes in as one document with decodeAny, through a reader that
// returns one byte at a time when oneByte is set (every value then crosses
// buffer refills).
func readAll(in []byte, oneByte bool) (any, error) {
	var src io.Reader = bytes.NewReader(in)
	if oneByte {
		src = iotest.OneByteReader(src)
	}
	r := NewReader(src, 0, nil)
	defer r.Release()
	v, err := decodeAny(r)
	if err == nil {
		err = r.Finish()
	}
	return v, err
}

func referenceAny(in []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if !json.Valid(in) {
		return nil, errors.New("trailing data")
	}
	return v, nil
}

var readerSeeds = []string{
	`{"a":1,"b":[true,false,null,"x\u00e8\ud83d\ude00"],"c":{"d":-1.5e+3}}`,
	`"\ud800\ud800\udc00"`, `"\udc00\ud800"`, `"\ud800x"`, `"\ud800\u0041"`, "\"\xff\xfe ok \xed\xa0\x80\"",
	`[1,2,3] x`, `{"a":1,}`, `[01]`, `-`, `1.`, `1e`, `1e+`, `0`, `-0.0e-0`, `{"a" 1}`, `"\q"`, "\"\x01\"",
	`{"a":{"a":{"a":[]}}}`, `{"K":1,"k":2,"ſ":3}`, ` null `,
}

// longSeeds cross the Reader's buffer; they are too slow for fuzz seeds.
var longSeeds = []string{
	`"` + strings.Repeat(`\/x`, 30000) + `"`, `["` + strings.Repeat(`\u00e8\ud83d\ude00`+"\xff", 20000) + `"]`,
}

func TestReaderMatchesEncodingJSON(t *testing.T) {
	for _, in := range append(readerSeeds, longSeeds...) {
		want, wantErr := referenceAny([]byte(in))
		for _, oneByte := range []bool{false, true} {
			got, err := readAll([]byte(in), oneByte)
			require.Equal(t, wantErr == nil, err == nil, "%.60q: %v / %v", in, wantErr, err)
			if err == nil {
				assert.Equal(t, want, got, "%.60q", in)
			}
		}
	}
}

func TestReaderNesting(t *testing.T) {
	for _, depth := range []int{maxNesting, maxNesting + 1} {
		in := strings.Repeat("[", depth) + strings.Repeat("]", depth)
		r := NewReader(strings.NewReader(in), 0, nil)
		err := r.Skip()
		r.Release()
		assert.Equal(t, json.Valid([]byte(in)), err == nil, "depth %d: %v", depth, err)
	}
}

func TestReaderRawAndCompact(t *testing.T) {
	in := " {\"a\" : [ 1 , \"x y\\\" \" ,{ } ], \"b\":\n\"" + strings.Repeat("z", 200_000) + "\" } "
	r := NewReader(iotest.HalfReader(strings.NewReader(in)), 0, nil)
	defer r.Release()
	raw, err := r.Raw()
	require.NoError(t, err)
	assert.Equal(t, strings.TrimSpace(in), string(raw))

	r2 := NewReader(strings.NewReader(in), 0, nil)
	defer r2.Release()
	got, err := r2.Compact()
	require.NoError(t, err)
	var want bytes.Buffer
	require.NoError(t, json.Compact(&want, []byte(in)))
	assert.Equal(t, want.String(), got)
}

// TestReaderCheckStops: a check that fails stops the reader at its next
// refill, and the error wraps the check's.
func TestReaderCheckStops(t *testing.T) {
	stop := errors.New("stop")
	in := "[" + strings.Repeat(`"abcdefgh",`, 100_000) + "1]"
	reads := 0
	r := NewReader(strings.NewReader(in), 0, func() error {
		if reads++; reads > 3 {
			return stop
		}
		return nil
	})
	defer r.Release()
	err := r.Skip()
	require.ErrorIs(t, err, stop)
	assert.Less(t, r.Offset(), int64(4*bufSize+1))
	_, derr := r.Drain()
	assert.ErrorIs(t, derr, stop)
}

func TestReaderDrainAndLimit(t *testing.T) {
	r := NewReader(strings.NewReader(`{"a":x}`+strings.Repeat(" ", 100)), 0, nil)
	require.Error(t, r.Skip())
	n, err := r.Drain()
	require.NoError(t, err)
	assert.Equal(t, int64(107), n)
	r.Release()

	r = NewReader(strings.NewReader(strings.Repeat(" ", 100)), 50, nil)
	_, err = r.Drain()
	assert.ErrorIs(t, err, ErrTooLarge)
	r.Release()
}

// FuzzReader checks the Reader against encoding/json on arbitrary input:
// the same inputs are valid, and they decode to the same values.
func FuzzReader(f *testing.F) {
	for _, s := range readerSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		want, wantErr := referenceAny(in)
		got, err := readAll(in, len(in)%2 == 1)
		if errors.Is(err, errLongKey) {
			return
		}
		if (wantErr == nil) != (err == nil) {
			t.Fatalf("validity differs: encoding/json %v, Reader %v", wantErr, err)
		}
		if err == nil && !assert.ObjectsAreEqual(want, got) {
			t.Fatalf("values differ:\n%#v\n%#v", want, got)
		}
		r := NewReader(bytes.NewReader(in), 0, nil)
		defer r.Release()
		raw, rerr := r.Raw()
		if rerr == nil {
			rerr = r.Finish()
		}
		if (wantErr == nil) != (rerr == nil) || rerr == nil && !bytes.Equal(raw, bytes.TrimSpace(in)) {
			t.Fatalf("Raw differs: %v / %v", wantErr, rerr)
		}
	})
}

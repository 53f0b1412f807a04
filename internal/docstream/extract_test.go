package docstream

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// randomPayload is n deterministic pseudo-random bytes; ChaCha8 fills them in
// bulk, which keeps the 8 MiB cases cheap under -race.
func randomPayload(rng *rand.Rand, n int) []byte {
	var seed [32]byte
	for i := range seed {
		seed[i] = byte(rng.Uint32())
	}
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(seed).Read(b)
	return b
}

// TestExtractMatchesNaive is the differential property test: random
// envelopes decode byte for byte as encoding/json + DecodeString do. The
// sizes reach 1 MiB: sixteen times the scanner's 64 KiB buffer and twenty
// times the 48 KiB output chunk, so every boundary case is crossed many
// times; larger documents add no branch, only time (BenchmarkExtract and
// FuzzExtract take them further).
func TestExtractMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const maxSize = 1 << 20
	sizes := []int{0, 1, 2, 3, 57, maxSize}
	for len(sizes) < 24 {
		sizes = append(sizes, int(math.Exp(rng.Float64()*math.Log(maxSize+1)))-1)
	}
	wraps := []string{"", `\n`, `\r\n`}
	for i, size := range sizes {
		spec := envelopeSpec{
			payload:    randomPayload(rng, size),
			escape:     rng.IntN(2) == 0,
			wrap:       wraps[rng.IntN(len(wraps))],
			extraKeys:  rng.IntN(2) == 0,
			shuffle:    rng,
			nome:       "doc-\u00e8/\"x\".zip",
			dimensione: int64(size),
		}
		body := spec.build()
		want, wantBytes, err := naive(body)
		require.NoError(t, err, "case %d: reference decoder", i)

		var got bytes.Buffer
		got.Grow(size)
		meta, err := Extract(bytes.NewReader(body), &got, Options{})
		require.NoError(t, err, "case %d size %d", i, size)
		assert.Equal(t, want, meta, "case %d", i)
		assert.True(t, bytes.Equal(wantBytes, got.Bytes()), "case %d size %d: bytes differ", i, size)
	}
}

func smallEnvelope(t testing.TB, size int) ([]byte, []byte) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, uint64(size)))
	payload := randomPayload(rng, size)
	spec := envelopeSpec{payload: payload, escape: true, wrap: `\r\n`, extraKeys: true,
		shuffle: rng, nome: "x.zip", dimensione: int64(size)}
	return spec.build(), payload
}

func TestExtractIOTestReaders(t *testing.T) {
	body, payload := smallEnvelope(t, 100<<10)
	readers := map[string]func(io.Reader) io.Reader{
		"OneByteReader": iotest.OneByteReader,
		"HalfReader":    iotest.HalfReader,
		"DataErrReader": iotest.DataErrReader,
	}
	for name, wrap := range readers {
		t.Run(name, func(t *testing.T) {
			var got bytes.Buffer
			_, err := Extract(wrap(bytes.NewReader(body)), &got, Options{})
			require.NoError(t, err)
			assert.True(t, bytes.Equal(payload, got.Bytes()))
		})
	}
	t.Run("TimeoutReader", func(t *testing.T) {
		r := iotest.TimeoutReader(bytes.NewReader(body))
		_, err := Extract(r, io.Discard, Options{})
		assert.ErrorIs(t, err, iotest.ErrTimeout)
	})
	t.Run("ErrReader", func(t *testing.T) {
		boom := errors.New("connection reset")
		r := io.MultiReader(bytes.NewReader(body[:len(body)/2]), iotest.ErrReader(boom))
		_, err := Extract(r, io.Discard, Options{})
		assert.ErrorIs(t, err, boom)
	})
}

type failingWriter struct{ after int }

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.after {
		n := w.after
		w.after = 0
		return n, errDiskFull
	}
	w.after -= len(p)
	return len(p), nil
}

type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return len(p) / 2, nil }

func TestExtractWriterFails(t *testing.T) {
	body, _ := smallEnvelope(t, 200<<10)
	meta, err := Extract(bytes.NewReader(body), &failingWriter{after: 70000}, Options{})
	assert.ErrorIs(t, err, errDiskFull)
	assert.Equal(t, int64(70000), meta.BytesWritten)

	meta, err = Extract(bytes.NewReader(body), shortWriter{}, Options{})
	assert.ErrorIs(t, err, io.ErrShortWrite)
	assert.Equal(t, int64(outSize/2), meta.BytesWritten)
}

func TestExtractErrorEnvelope(t *testing.T) {
	body := `{"data":null,"success":false,"message":"document not yet available","error":247}`
	var got bytes.Buffer
	meta, err := Extract(strings.NewReader(body), &got, Options{})
	require.NoError(t, err)
	assert.False(t, meta.Success)
	assert.False(t, meta.FileSeen)
	assert.Equal(t, "document not yet available", meta.Message)
	require.NotNil(t, meta.ErrorCode)
	assert.Equal(t, 247, *meta.ErrorCode)
	assert.Equal(t, int64(-1), meta.Dimensione)
	assert.Zero(t, got.Len())
}

func TestExtractEscapesInFile(t *testing.T) {
	cases := map[string]string{
		"slash":           `QUJ\/`,
		"unicode":         `\u0051UJ\/`,
		"unicode newline": `QU\u000aJ\/`,
		"literal newline": "QU\nJ\\/\r\n",
		"escaped breaks":  `QU\r\nJ\/\n`,
	}
	for name, file := range cases {
		t.Run(name, func(t *testing.T) {
			var got bytes.Buffer
			_, err := Extract(strings.NewReader(`{"data":{"file":"`+file+`"}}`), &got, Options{})
			require.NoError(t, err)
			assert.Equal(t, "AB\x7f", got.String())
		})
	}
}

func TestExtractNomeUnescaping(t *testing.T) {
	body := `{"data":{"nome":"a\/b\\c\"d\u00e8\ud83d\ude00\ud800x\t","dimensione":0,"file":""},"success":true}`
	meta, err := Extract(strings.NewReader(body), io.Discard, Options{})
	require.NoError(t, err)
	want, _, err := naive([]byte(body))
	require.NoError(t, err)
	assert.Equal(t, want.Nome, meta.Nome)
}

func TestExtractMalformed(t *testing.T) {
	cases := []struct {
		name, body string
		want       error
	}{
		{"html page", `<html>502</html>`, &SyntaxError{}},
		{"empty", ``, io.ErrUnexpectedEOF},
		{"bad escape in file", `{"data":{"file":"QU\x"}}`, &SyntaxError{}},
		{"bad escape in key", `{"d\q":1}`, &SyntaxError{}},
		{"bad base64 char", `{"data":{"file":"QU*J"}}`, ErrBase64},
		{"space in base64", `{"data":{"file":"QU J"}}`, ErrBase64},
		{"non-ascii unicode escape", `{"data":{"file":"QU\u00e8J"}}`, ErrBase64},
		{"data after padding", `{"data":{"file":"QQ==QQ=="}}`, ErrBase64},
		{"incomplete group", `{"data":{"file":"QUJDQ"}}`, ErrBase64},
		{"control char in file", "{\"data\":{\"file\":\"QU\x01J\"}}", &SyntaxError{}},
		{"missing closing quote", `{"data":{"file":"QUJD}}`, io.ErrUnexpectedEOF},
		{"trailing data", `{"data":null} x`, &SyntaxError{}},
		{"data is a string", `{"data":"x"}`, &SyntaxError{}},
		{"duplicate data", `{"data":null,"data":null}`, &SyntaxError{}},
		{"duplicate file", `{"data":{"file":"","file":""}}`, &SyntaxError{}},
		{"dimensione float", `{"data":{"dimensione":1.5}}`, &SyntaxError{}},
		{"dimensione huge", `{"data":{"dimensione":99999999999999999999}}`, &SyntaxError{}},
		{"dimensione negative", `{"data":{"dimensione":-5,"file":"QUJD"}}`, &SyntaxError{}},
		{"success string", `{"success":"true"}`, &SyntaxError{}},
		{"error string", `{"error":"247"}`, &SyntaxError{}},
		{"bad literal", `{"x":nul}`, &SyntaxError{}},
		{"leading zero", `{"x":01}`, &SyntaxError{}},
		{"missing colon", `{"x" 1}`, &SyntaxError{}},
		{"trailing comma", `{"x":1,}`, &SyntaxError{}},
		{"unclosed array", `{"x":[1,2}`, &SyntaxError{}},
		{"deep nesting", `{"x":` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}`, &SyntaxError{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Extract(strings.NewReader(tc.body), io.Discard, Options{})
			require.Error(t, err)
			if target, ok := tc.want.(*SyntaxError); ok {
				assert.ErrorAs(t, err, &target)
			} else {
				assert.ErrorIs(t, err, tc.want)
			}
		})
	}
}

func TestSyntaxErrorHasOffsetNotContent(t *testing.T) {
	_, err := Extract(strings.NewReader(`{"data":{"file":"SECRET\q"}}`), io.Discard, Options{})
	var se *SyntaxError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, int64(24), se.Offset)
	assert.NotContains(t, err.Error(), "SECRET")
}

// TestExtractEveryPrefix cuts a valid envelope at every length: each prefix
// is an error (never a panic), and a truncation error wraps ErrUnexpectedEOF.
func TestExtractEveryPrefix(t *testing.T) {
	body, _ := smallEnvelope(t, 300)
	for n := 0; n < len(body); n++ {
		_, err := Extract(bytes.NewReader(body[:n]), io.Discard, Options{})
		require.Error(t, err, "prefix %d", n)
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "prefix %d", n)
	}
}

func TestExtractMaxBytes(t *testing.T) {
	body, _ := smallEnvelope(t, 10<<10)
	_, err := Extract(bytes.NewReader(body), io.Discard, Options{MaxBytes: int64(len(body) - 1)})
	assert.ErrorIs(t, err, ErrTooLarge)
	_, err = Extract(bytes.NewReader(body), io.Discard, Options{MaxBytes: int64(len(body))})
	assert.NoError(t, err)
}

func TestExtractProgress(t *testing.T) {
	const size = 300 << 10
	payload := randomPayload(rand.New(rand.NewPCG(3, 4)), size)
	for _, dimFirst := range []bool{true, false} {
		file := `"file":"` + encodeFile(payload, true, "") + `"`
		data := `{"dimensione":307200,` + file + `}`
		want := int64(size)
		if !dimFirst {
			data = `{` + file + `,"dimensione":307200}`
			want = -1
		}
		var last int64
		calls := 0
		_, err := Extract(strings.NewReader(`{"data":`+data+`}`), io.Discard, Options{
			Progress: func(done, total int64) {
				calls++
				assert.Greater(t, done, last)
				assert.Equal(t, want, total)
				last = done
			},
		})
		require.NoError(t, err)
		assert.Greater(t, calls, 1)
		assert.Equal(t, int64(size), last)
	}
}

// countingReader counts the bytes Extract pulled from the response.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// TestExtractStopsAtDimensione: a dimensione that precedes the file bounds
// what reaches w and what is read; one that follows does not (the caller
// compares it at the end, and MaxBytes bounds the stream meanwhile).
func TestExtractStopsAtDimensione(t *testing.T) {
	payload := randomPayload(rand.New(rand.NewPCG(5, 6)), 4<<20)
	file := `"file":"` + encodeFile(payload, true, `\n`) + `"`
	cases := []struct {
		name       string
		data       string
		wantErr    bool
		maxWritten int64
	}{
		{"22 announced first", `{"dimensione":22,` + file + `}`, true, 22},
		{"one byte short announced first", `{"dimensione":4194303,` + file + `}`, true, 4194303},
		{"exact announced first", `{"dimensione":4194304,` + file + `}`, false, 4194304},
		{"22 announced after", `{` + file + `,"dimensione":22}`, false, 4194304},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &countingReader{r: strings.NewReader(`{"data":` + tc.data + `}`)}
			var got bytes.Buffer
			meta, err := Extract(r, &got, Options{})
			assert.LessOrEqual(t, int64(got.Len()), tc.maxWritten)
			assert.Equal(t, int64(got.Len()), meta.BytesWritten)
			if !tc.wantErr {
				require.NoError(t, err)
				assert.True(t, bytes.Equal(payload, got.Bytes()))
				return
			}
			require.ErrorIs(t, err, ErrOverDimensione)
			if tc.maxWritten == 22 {
				assert.Zero(t, got.Len(), "the first chunk is already too long: nothing written")
				assert.Less(t, r.n, int64(256<<10), "reading stops within a chunk of the limit")
			}
		})
	}
}

package visengine

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const docID = "5f22f5b5065afc21cc60a27a"

// testDocZip is a real zip with a PDF-like entry, stored so its marker text
// appears verbatim in the bytes, and random bytes so the base64 has "/".
func testDocZip(t testing.TB) []byte {
	noise := make([]byte, 3000)
	_, _ = rand.NewChaCha8([32]byte{9}).Read(noise)
	return buildZip(t,
		stored(docID+".pdf", []byte("%PDF-1.7 SECRET-PAYLOAD"), 23, zip.Store),
		stored("noise.bin", noise, uint64(len(noise)), zip.Store),
	)
}

// phpEnvelope renders a documento answer as PHP's json_encode does: "/"
// escaped as "\/", base64 wrapped at 76 columns with "\n" escapes.
func phpEnvelope(nome string, dimensione int, data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(enc) > 76 {
		b.WriteString(enc[:76] + `\n`)
		enc = enc[76:]
	}
	b.WriteString(enc)
	file := strings.ReplaceAll(b.String(), "/", `\/`)
	return fmt.Sprintf(`{"data":{"nome":"%s","dimensione":%d,"file":"%s"},"success":true,"message":"","error":null}`,
		nome, dimensione, file)
}

func docServer(t *testing.T, status int, body string) *countingServer {
	return newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/documento/"+docID, r.URL.Path)
		writeJSON(w, status, body)
	})
}

func TestDownloadDocumento(t *testing.T) {
	doc := testDocZip(t)
	body := phpEnvelope(docID+".zip", len(doc), doc)
	require.Contains(t, body, `\/`)
	srv := docServer(t, http.StatusOK, body)

	var got bytes.Buffer
	info, err := newTestClient(t, srv.URL).DownloadDocumento(context.Background(), docID, &got)
	require.NoError(t, err)
	assert.Equal(t, &DocumentoInfo{Nome: docID + ".zip", Dimensione: int64(len(doc))}, info)
	assert.True(t, bytes.Equal(doc, got.Bytes()))
}

func TestDownloadDocumentoErrorAnswers(t *testing.T) {
	cases := []struct {
		status, code int
		message      string
		want         error
	}{
		{422, 247, "document not yet available", ErrDocumentNotReady},
		{400, 243, "Invalid id", ErrInvalidRequest},
		{404, 244, "no requests matches this id: " + docID, ErrNotFound},
		{428, 242, "id required", ErrInvalidRequest},
		{200, 247, "document not yet available", ErrDocumentNotReady}, // success:false with 200
	}
	for _, tc := range cases {
		t.Run(strconv.Itoa(tc.status)+"/"+strconv.Itoa(tc.code), func(t *testing.T) {
			body := fmt.Sprintf(`{"data":null,"success":false,"message":%q,"error":%d}`, tc.message, tc.code)
			srv := docServer(t, tc.status, body)
			var got bytes.Buffer
			_, err := newTestClient(t, srv.URL).DownloadDocumento(context.Background(), docID, &got)
			require.ErrorIs(t, err, tc.want)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.status, apiErr.StatusCode)
			assert.Equal(t, Code(tc.code), apiErr.Code)
			assert.Zero(t, got.Len())
		})
	}
}

func TestDownloadDocumentoBadContent(t *testing.T) {
	doc := testDocZip(t)
	cases := map[string]struct {
		body    string
		want    error
		partial bool
	}{
		"length mismatch": {phpEnvelope("x.zip", len(doc)+1, doc), ErrIntegrity, true},
		"not a zip":       {phpEnvelope("x.zip", 12, []byte("%PDF-1.7 abc")), ErrNotZip, false},
		"too short":       {phpEnvelope("x.zip", 2, []byte("PK")), ErrNotZip, false},
		"no file":         {`{"data":{"nome":"x.zip","dimensione":3},"success":true}`, ErrUnexpectedResponse, false},
		"html":            {`<html>Bad gateway</html>`, ErrUnexpectedResponse, false},
		"empty envelope":  {`{"trace":{}}`, ErrUnexpectedResponse, false},
		"bad base64":      {`{"data":{"file":"UEsDBA*="},"success":true}`, ErrUnexpectedResponse, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := docServer(t, http.StatusOK, tc.body)
			var got bytes.Buffer
			_, err := newTestClient(t, srv.URL).DownloadDocumento(context.Background(), docID, &got)
			require.ErrorIs(t, err, tc.want)
			var partial *PartialDownloadError
			assert.Equal(t, tc.partial, errors.As(err, &partial))
			assert.Equal(t, 1, strings.Count(err.Error(), "visengine: "), "one prefix: %q", err)
			if tc.partial {
				assert.Contains(t, err.Error(), "discard")
				assert.Equal(t, int64(got.Len()), partial.Written)
			} else {
				assert.Zero(t, got.Len())
			}
			assert.NotContains(t, err.Error(), "SECRET")
		})
	}
}

func TestDownloadDocumentoTruncated(t *testing.T) {
	doc := testDocZip(t)
	body := phpEnvelope("x.zip", len(doc), doc)
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = io.WriteString(w, body[:len(body)/2]) // then the connection closes
	})
	var got bytes.Buffer
	_, err := newTestClient(t, srv.URL).DownloadDocumento(context.Background(), docID, &got)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Contains(t, err.Error(), "discard")
	assert.Equal(t, int32(1), srv.hits.Load(), "no retry once bytes were written")

	cut := docServer(t, http.StatusOK, body[:len(body)-5]) // a complete answer, cut JSON
	_, err = newTestClient(t, cut.URL).DownloadDocumento(context.Background(), docID, io.Discard)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.ErrorIs(t, err, ErrUnexpectedResponse)
}

func TestDownloadDocumentoTooLarge(t *testing.T) {
	doc := testDocZip(t)
	srv := docServer(t, http.StatusOK, phpEnvelope("x.zip", len(doc), doc))
	c := newTestClient(t, srv.URL)
	_, err := c.DownloadDocumento(context.Background(), docID, io.Discard, WithMaxResponseSize(1000))
	assert.ErrorIs(t, err, ErrResponseTooLarge)

	chunked := newCountingServer(t, func(_ int32, w http.ResponseWriter, _ *http.Request) {
		body := phpEnvelope("x.zip", len(doc), doc)
		_, _ = io.WriteString(w, body[:100])
		w.(http.Flusher).Flush() // no Content-Length: the cap applies while reading
		_, _ = io.WriteString(w, body[100:])
	})
	_, err = newTestClient(t, chunked.URL).DownloadDocumento(context.Background(), docID, io.Discard, WithMaxResponseSize(1000))
	assert.ErrorIs(t, err, ErrResponseTooLarge)
}

func TestDownloadDocumentoProgress(t *testing.T) {
	doc := make([]byte, 200_000)
	copy(doc, "PK\x03\x04")
	for _, dimFirst := range []bool{true, false} {
		body := phpEnvelope("x.zip", len(doc), doc)
		if !dimFirst {
			body = strings.Replace(body, `"dimensione":200000,`, ``, 1)
			body = strings.Replace(body, `},"success"`, `,"dimensione":200000},"success"`, 1)
		}
		srv := docServer(t, http.StatusOK, body)
		var dones []int64
		var lastTotal int64
		_, err := newTestClient(t, srv.URL).DownloadDocumento(context.Background(), docID, io.Discard,
			WithDownloadProgress(func(done, total int64) { dones = append(dones, done); lastTotal = total }))
		require.NoError(t, err)
		require.NotEmpty(t, dones)
		for i := 1; i < len(dones); i++ {
			assert.GreaterOrEqual(t, dones[i], dones[i-1])
		}
		assert.Equal(t, int64(len(doc)), dones[len(dones)-1])
		assert.Equal(t, int64(len(doc)), lastTotal)
	}
}

func TestDownloadDocumentoRetriesBeforeBody(t *testing.T) {
	doc := testDocZip(t)
	body := phpEnvelope("x.zip", len(doc), doc)
	srv := newCountingServer(t, func(n int32, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			writeJSON(w, http.StatusServiceUnavailable, `<html>busy</html>`)
			return
		}
		writeJSON(w, http.StatusOK, body)
	})
	var got bytes.Buffer
	_, err := newTestClient(t, srv.URL).DownloadDocumento(context.Background(), docID, &got)
	require.NoError(t, err)
	assert.Equal(t, int32(2), srv.hits.Load())
	assert.True(t, bytes.Equal(doc, got.Bytes()), "nothing duplicated")
}

func TestDownloadDocumentoRejectsBadIDs(t *testing.T) {
	srv := docServer(t, http.StatusOK, "{}")
	c := newTestClient(t, srv.URL)
	for _, id := range []string{"", "a/b", "a b", "a\x00b", "../x", "a?b=1"} {
		_, err := c.DownloadDocumento(context.Background(), id, io.Discard)
		assert.ErrorIs(t, err, ErrInvalidArgument, "%q", id)
		_, err = c.DownloadToFile(context.Background(), id, filepath.Join(t.TempDir(), "x.zip"))
		assert.ErrorIs(t, err, ErrInvalidArgument, "%q", id)
	}
	_, err := c.DownloadDocumento(context.Background(), docID, nil)
	assert.ErrorIs(t, err, ErrInvalidArgument)
	assert.Zero(t, srv.hits.Load())
}

func TestDownloadToFile(t *testing.T) {
	doc := testDocZip(t)
	dir := t.TempDir()
	dest := filepath.Join(dir, docID+".zip")
	srv := docServer(t, http.StatusOK, phpEnvelope("x.zip", len(doc), doc))
	info, err := newTestClient(t, srv.URL).DownloadToFile(context.Background(), docID, dest)
	require.NoError(t, err)
	assert.Equal(t, int64(len(doc)), info.Dimensione)
	got, err := os.ReadFile(dest)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(doc, got))
	st, err := os.Stat(dest)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	assert.Equal(t, []string{docID + ".zip"}, listTree(t, dir))
}

func TestDownloadToFileLeavesNothingOnError(t *testing.T) {
	doc := testDocZip(t)
	bodies := map[string]string{
		"not ready":       `{"data":null,"success":false,"message":"document not yet available","error":247}`,
		"length mismatch": phpEnvelope("x.zip", len(doc)-1, doc),
		"not a zip":       phpEnvelope("x.zip", 5, []byte("hello")),
		"truncated":       phpEnvelope("x.zip", len(doc), doc)[:2000],
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			dest := filepath.Join(dir, "doc.zip")
			require.NoError(t, os.WriteFile(dest, []byte("previous"), 0o600))
			srv := docServer(t, http.StatusOK, body)
			_, err := newTestClient(t, srv.URL).DownloadToFile(context.Background(), docID, dest)
			require.Error(t, err)
			assert.Equal(t, []string{"doc.zip"}, listTree(t, dir))
			got, err := os.ReadFile(dest)
			require.NoError(t, err)
			assert.Equal(t, "previous", string(got))
		})
	}
}

func TestGetDocumento(t *testing.T) {
	doc := testDocZip(t)
	srv := docServer(t, http.StatusOK, phpEnvelope(docID+".zip", len(doc), doc))
	c := newTestClient(t, srv.URL)
	d, err := c.GetDocumento(context.Background(), docID)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(doc, d.Data))
	a, err := d.Zip()
	require.NoError(t, err)
	require.Len(t, a.Files(), 2)
	assert.Equal(t, docID+".pdf", a.Files()[0].Name)

	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		for _, v := range []any{d, *d} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, "SECRET", verb)
			assert.NotContains(t, out, fmt.Sprint(d.Data[:8]), verb)
			assert.NotContains(t, out, fmt.Sprintf("%x", d.Data[:8]), verb)
			assert.Contains(t, out, docID+".zip", verb)
		}
	}

	_, err = c.GetDocumento(context.Background(), docID, WithMaxResponseSize(100))
	assert.ErrorIs(t, err, ErrResponseTooLarge)
}

// dimAfterFile moves "dimensione" after "file" in a phpEnvelope body.
func dimAfterFile(body string, dimensione int) string {
	field := `"dimensione":` + strconv.Itoa(dimensione)
	body = strings.Replace(body, field+`,`, ``, 1)
	return strings.Replace(body, `},"success"`, `,`+field+`},"success"`, 1)
}

// TestDownloadDocumentoAtDimensione: exactly dimensione bytes succeed and
// one byte more fails with ErrIntegrity, whichever order the keys come in.
// With dimensione first, the writer never gets more than dimensione bytes;
// with dimensione after the file nothing is known while streaming, so the
// writer gets everything up to the response cap.
func TestDownloadDocumentoAtDimensione(t *testing.T) {
	doc := make([]byte, 200_000) // several of docstream's 48 KiB chunks
	_, _ = rand.NewChaCha8([32]byte{4}).Read(doc)
	copy(doc, "PK\x03\x04")
	over := append(doc[:len(doc):len(doc)], 'x')
	cases := []struct {
		name       string
		body       string
		wantErr    bool
		maxWritten int
	}{
		{"exact, dimensione first", phpEnvelope("x.zip", len(doc), doc), false, len(doc)},
		{"exact, dimensione after", dimAfterFile(phpEnvelope("x.zip", len(doc), doc), len(doc)), false, len(doc)},
		{"one byte over, dimensione first", phpEnvelope("x.zip", len(doc), over), true, len(doc)},
		{"one byte over, dimensione after", dimAfterFile(phpEnvelope("x.zip", len(doc), over), len(doc)), true, len(over)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Contains(t, tc.body, `"dimensione":200000`)
			srv := docServer(t, http.StatusOK, tc.body)
			var got bytes.Buffer
			info, err := newTestClient(t, srv.URL).DownloadDocumento(context.Background(), docID, &got)
			assert.LessOrEqual(t, got.Len(), tc.maxWritten, "bytes the writer received")
			if !tc.wantErr {
				require.NoError(t, err)
				assert.Equal(t, int64(len(doc)), info.Dimensione)
				assert.True(t, bytes.Equal(doc, got.Bytes()))
				return
			}
			require.ErrorIs(t, err, ErrIntegrity)
			var partial *PartialDownloadError
			require.ErrorAs(t, err, &partial)
			assert.Equal(t, int64(got.Len()), partial.Written)
		})
	}
}

// TestDownloadDocumentoStopsPastDimensione is the hostile run's case: a
// server announces 22 bytes, then streams a much larger document. The
// download stops within a chunk of the announced size, the writer gets
// nothing (the first chunk already passes 22 bytes), and the server cannot
// send the whole stream: its writes fail once the socket buffers are full
// and the client has closed the connection.
func TestDownloadDocumentoStopsPastDimensione(t *testing.T) {
	const streamed = 64 << 20
	var sent atomic.Int64
	var completed atomic.Bool
	done := make(chan struct{})
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, _ *http.Request) {
		defer close(done)
		n, _ := io.WriteString(w, `{"success":true,"data":{"nome":"x.zip","dimensione":22,"file":"UEsDBA`)
		sent.Add(int64(n))
		line := strings.Repeat("A", 76) + `\n`
		chunk := strings.Repeat(line, 64<<10/len(line))
		for sent.Load() < streamed {
			n, err := io.WriteString(w, chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
		_, err := io.WriteString(w, `"},"message":"","error":null}`)
		completed.Store(err == nil)
	})
	var got bytes.Buffer
	_, err := newTestClient(t, srv.URL).DownloadDocumento(context.Background(), docID, &got)
	require.ErrorIs(t, err, ErrIntegrity)
	assert.Contains(t, err.Error(), "22 bytes")
	var partial *PartialDownloadError
	assert.False(t, errors.As(err, &partial), "nothing reached the writer")
	assert.Zero(t, got.Len())
	<-done // the handler ends once the client has closed the connection
	assert.False(t, completed.Load(), "the client stopped reading early")
	t.Logf("the server sent %d of %d bytes", sent.Load(), streamed)
}

// TestDownloadDocumentoNegativeDimensione: a negative size is malformed,
// refused before any byte is written.
func TestDownloadDocumentoNegativeDimensione(t *testing.T) {
	doc := testDocZip(t)
	srv := docServer(t, http.StatusOK, phpEnvelope("x.zip", -1, doc))
	var got bytes.Buffer
	_, err := newTestClient(t, srv.URL).DownloadDocumento(context.Background(), docID, &got)
	require.ErrorIs(t, err, ErrUnexpectedResponse)
	assert.Zero(t, got.Len())
}

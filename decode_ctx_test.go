package visengine

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// manySearches is a richiesta answer of about size bytes, most of it
// small searches.
func manySearches(size int) []byte {
	const one = `{"id_ricerca":"5f2829ce065afc21cc60ad0e_1","stato_ricerca":"Errore su richiesta dati",` +
		`"json_ricerca":"{\"$0\":\"RSSMRA80A01H501U\"}","json_mappato":{"CODICE FISCALE":"RSSMRA80A01H501U"},"json_risultato":null}`
	var b bytes.Buffer
	b.WriteString(`{"data":{` + baseRichiesta + `,"stato_richiesta":"In ricerca","ricerche":[` + one)
	for b.Len() < size {
		b.WriteString("," + one)
	}
	b.WriteString(`]},"success":true,"message":"","error":null}`)
	return b.Bytes()
}

// stallingBody serves body and, once at bytes have gone, waits for ctx to
// end before serving the rest: a server still sending when the caller's
// deadline passes. The transport does not watch ctx, so only the decoder
// can stop the reading.
type stallingBody struct {
	ctx  context.Context
	body []byte
	at   int
	read atomic.Int64
}

func (s *stallingBody) Read(p []byte) (int, error) {
	n := int(s.read.Load())
	if n >= len(s.body) {
		return 0, io.EOF
	}
	end := min(n+len(p), len(s.body))
	switch {
	case n >= s.at:
		<-s.ctx.Done()
	case end > s.at:
		end = s.at // the next read stalls
	}
	k := copy(p, s.body[n:end])
	s.read.Add(int64(k))
	return k, nil
}

func (s *stallingBody) Close() error { return nil }

func stallingClient(t *testing.T, body *stallingBody) *Client {
	rt := roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: body, ContentLength: -1, Request: r}, nil
	})
	return newTestClient(t, "http://127.0.0.1:1", WithHTTPClient(&http.Client{Transport: rt}))
}

// The context is honoured while an answer is decoded, not only while it
// is awaited: a deadline that passes in the middle of a large answer ends
// the call with context.DeadlineExceeded, without reading the rest.
func TestDecodeStopsAtDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	body := &stallingBody{ctx: ctx, body: manySearches(4 << 20), at: 1 << 20}
	start := time.Now()
	_, err := stallingClient(t, body).GetRichiesta(ctx, "5f2829ce065afc21cc60ad0e")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 2*time.Second, "returned at the deadline, not after the rest")
	assert.Less(t, body.read.Load(), int64(1<<20+256<<10), "stopped at the next read after the deadline")
	assert.Contains(t, err.Error(), "GET /richiesta/5f2829ce065afc21cc60ad0e")
}

// A paid call's answer left unread is an unknown outcome, which still
// says why.
func TestDecodeStopsPaidCallUnknown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	body := &stallingBody{ctx: ctx, body: manySearches(1 << 20), at: 200 << 10}
	c := stallingClient(t, body)
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err := c.CloseRichiesta(ctx, "5f2829ce065afc21cc60ad0e")
	var unknown *OutcomeUnknownError
	require.ErrorAs(t, err, &unknown)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.Equal(t, "PUT", unknown.Method)
}

// Decoding the same answer without a deadline still works, and the
// generator is what the test thinks it is.
func TestManySearchesDecodes(t *testing.T) {
	body := manySearches(256 << 10)
	c := cannedClient(t, http.StatusOK, body)
	r, err := c.GetRichiesta(context.Background(), "5f2829ce065afc21cc60ad0e")
	require.NoError(t, err)
	assert.Equal(t, strings.Count(string(body), `"id_ricerca"`), len(r.Ricerche))
	assert.Equal(t, Values{"$0": "RSSMRA80A01H501U"}, r.Ricerche[len(r.Ricerche)-1].Valori())
}

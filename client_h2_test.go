package visengine

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// h2Frame writes one HTTP/2 frame.
func h2Frame(w io.Writer, typ, flags byte, stream uint32, payload []byte) {
	h := []byte{byte(len(payload) >> 16), byte(len(payload) >> 8), byte(len(payload)), typ, flags, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(h[5:], stream)
	_, _ = w.Write(append(h, payload...))
}

// rstAfterBodyServer is a bare HTTP/2 server that reads each request whole
// and answers the first with RST_STREAM(PROTOCOL_ERROR), as a proxy may do
// after passing the request on; later requests get a success. net/http's
// HTTP/2 client resends such a request by itself when it can rewind the
// body. It returns the URL and a pool trusting its certificate.
func rstAfterBodyServer(t *testing.T, complete *atomic.Int32) (string, *x509.CertPool) {
	// httptest's certificate, served by our own listener.
	ts := httptest.NewTLSServer(nil)
	cert := ts.TLS
	ts.Close()
	pool := x509.NewCertPool()
	leaf, err := x509.ParseCertificate(cert.Certificates[0].Certificate[0])
	require.NoError(t, err)
	pool.AddCert(leaf)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: cert.Certificates, NextProtos: []string{"h2"}})
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveRawH2(c, complete)
		}
	}()
	return "https://" + ln.Addr().String(), pool
}

func serveRawH2(c net.Conn, complete *atomic.Int32) {
	defer c.Close()
	if _, err := io.ReadFull(c, make([]byte, 24)); err != nil { // client preface
		return
	}
	h2Frame(c, 4, 0, 0, nil) // SETTINGS
	for {
		h := make([]byte, 9)
		if _, err := io.ReadFull(c, h); err != nil {
			return
		}
		n := int(h[0])<<16 | int(h[1])<<8 | int(h[2])
		typ, flags, sid := h[3], h[4], binary.BigEndian.Uint32(h[5:])&0x7fffffff
		p := make([]byte, n)
		if _, err := io.ReadFull(c, p); err != nil {
			return
		}
		switch {
		case typ == 4 && flags&1 == 0: // SETTINGS → ACK
			h2Frame(c, 4, 1, 0, nil)
		case typ == 6 && flags&1 == 0: // PING → ACK
			h2Frame(c, 6, 1, 0, p)
		case (typ == 0 || typ == 1) && flags&1 == 1: // request complete
			if complete.Add(1) == 1 {
				h2Frame(c, 3, 0, sid, []byte{0, 0, 0, 1}) // RST_STREAM PROTOCOL_ERROR
				continue
			}
			h2Frame(c, 1, 4, sid, []byte{0x88}) // HEADERS :status 200
			h2Frame(c, 0, 1, sid, []byte(`{"success":true,"data":{"_id":"aaaaaaaaaaaaaaaaaaaaaaaa","state":1}}`))
		}
	}
}

// A paid POST that fully reached the server must not be resent by
// net/http's own HTTP/2 retry, which happens inside one RoundTrip where
// our retry policy cannot see it.
func TestPaidPostNotResentByHTTP2(t *testing.T) {
	var complete atomic.Int32
	url, pool := rstAfterBodyServer(t, &complete)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	c, err := NewClient(canaryToken, WithBaseURL(url), WithHTTPClient(&http.Client{Transport: tr}),
		WithRetry(3, time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = c.CreateRichiesta(ctx, &RichiestaParams{HashVisura: "eccbc87e4b5ce2fe28308fd9f2a7baf3", State: StateSubmitted})
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.EqualValues(t, 1, complete.Load(), "the paid POST reached the server more than once")
}

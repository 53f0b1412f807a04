// Package benchutil holds what the download benchmarks share: a loopback
// handler that generates documento answers on the fly, PHP style, and a
// peak-heap sampler. It is used only by tests and benchmarks.
package benchutil

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync/atomic"
	"time"
)

// WriteBase64 appends payload to dst as Visengine's PHP backend writes it
// inside a JSON string: base64 in 76-character lines joined by wrap, with
// "/" escaped as `\/` when escape is set.
func WriteBase64(dst *bytes.Buffer, payload []byte, escape bool, wrap string) {
	var line [76]byte
	for len(payload) > 0 {
		n := min(57, len(payload)) // 57 bytes encode to 76 characters
		l := line[:base64.StdEncoding.EncodedLen(n)]
		base64.StdEncoding.Encode(l, payload[:n])
		payload = payload[n:]
		for escape {
			i := bytes.IndexByte(l, '/')
			if i < 0 {
				break
			}
			dst.Write(l[:i])
			dst.WriteString(`\/`)
			l = l[i+1:]
		}
		dst.Write(l)
		if wrap != "" && len(payload) > 0 {
			dst.WriteString(wrap)
		}
	}
}

// EnvelopeHandler answers any GET with a successful documento envelope of
// ?size= decoded bytes (or, without the query, as many as the last path
// segment says, so GET /documento/1024 works through the SDK) drawn from a seeded PRNG, generated chunk by chunk so
// the server never holds the document. With zipHead the bytes start with a
// zip local-file signature, as the SDK's download checks.
func EnvelopeHandler(zipHead bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n := r.URL.Query().Get("size")
		if n == "" {
			n = path.Base(r.URL.Path)
		}
		size, _ := strconv.ParseInt(n, 10, 64)
		fmt.Fprintf(w, `{"success":true,"data":{"nome":"x.zip","dimensione":%d,"file":"`, size)
		src := rand.NewChaCha8([32]byte{1})
		chunk := make([]byte, 57*1024)
		var out bytes.Buffer
		for left := size; left > 0; left -= int64(len(chunk)) {
			chunk = chunk[:min(int64(len(chunk)), left)]
			_, _ = src.Read(chunk)
			if left == size && zipHead {
				copy(chunk, "PK\x03\x04")
			}
			out.Reset()
			if left != size {
				out.WriteString(`\n`)
			}
			WriteBase64(&out, chunk, true, `\n`)
			if _, err := w.Write(out.Bytes()); err != nil {
				return
			}
		}
		fmt.Fprint(w, `"},"message":"","error":null}`)
	}
}

// PeakHeap runs f while sampling the live heap about every millisecond and
// returns the highest value seen above the level before f.
func PeakHeap(f func()) uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	runtime.GC()
	base := read()
	var peak atomic.Uint64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			if v := read(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	f()
	close(stop)
	<-done
	if p := peak.Load(); p > base {
		return p - base
	}
	return 0
}

package docstream

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/visengine-go/visengine/internal/benchutil"
)

func benchBody(b *testing.B, size int) []byte {
	b.Helper()
	rng := rand.New(rand.NewPCG(11, uint64(size)))
	spec := envelopeSpec{payload: randomPayload(rng, size), escape: true, wrap: `\n`,
		nome: "x.zip", dimensione: int64(size)}
	return spec.build()
}

var benchSizes = []int{1 << 20, 16 << 20}

func BenchmarkExtract(b *testing.B) {
	for _, size := range benchSizes {
		body := benchBody(b, size)
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := Extract(bytes.NewReader(body), io.Discard, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// naiveEnvelope is how a client without streaming would decode the response.
type naiveEnvelope struct {
	Data *struct {
		Nome       string `json:"nome"`
		Dimensione int64  `json:"dimensione"`
		File       string `json:"file"`
	} `json:"data"`
	Success bool   `json:"success"`
	Message string `json:"message"`
	Error   *int   `json:"error"`
}

func naiveDecode(r io.Reader) ([]byte, error) {
	body, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var env naiveEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(env.Data.File)
}

func BenchmarkNaive(b *testing.B) {
	for _, size := range benchSizes {
		body := benchBody(b, size)
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := naiveDecode(bytes.NewReader(body)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPeakHeap measures peak heap while downloading a documento from a
// loopback server: constant for the stream, about five times the document
// for the naive path. Run with -benchtime=1x; it moves hundreds of MiB.
func BenchmarkPeakHeap(b *testing.B) {
	srv := httptest.NewServer(benchutil.EnvelopeHandler(false))
	defer srv.Close()
	cases := []struct {
		name  string
		size  int64
		naive bool
	}{
		{"stream-64MiB", 64 << 20, false},
		{"stream-256MiB", 256 << 20, false},
		{"naive-64MiB", 64 << 20, true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var peak uint64
			for b.Loop() {
				peak = max(peak, benchutil.PeakHeap(func() { download(b, srv, c.size, c.naive) }))
			}
			b.SetBytes(c.size)
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}

func download(b *testing.B, srv *httptest.Server, size int64, naive bool) {
	resp, err := srv.Client().Get(srv.URL + "/documento/x?size=" + strconv.FormatInt(size, 10))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var n int64
	if naive {
		data, derr := naiveDecode(resp.Body)
		n, err = int64(len(data)), derr
	} else {
		var meta Meta
		meta, err = Extract(resp.Body, io.Discard, Options{})
		n = meta.BytesWritten
	}
	if err != nil || n != size {
		b.Fatalf("decoded %d of %d bytes: %v", n, size, err)
	}
}

package visengine

import (
	"context"
	"io"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/visengine-go/visengine/internal/benchutil"
)

// BenchmarkDownloadDocumento measures throughput and peak heap of the whole
// client path (request, retry policy, streaming decode, integrity checks)
// against a loopback server that generates the answer on the fly: peak heap
// must not grow with the document. Run with -benchtime=1x; it moves
// hundreds of MiB.
func BenchmarkDownloadDocumento(b *testing.B) {
	srv := httptest.NewServer(benchutil.EnvelopeHandler(true))
	defer srv.Close()
	c := newTestClient(b, srv.URL)
	for _, size := range []int64{64 << 20, 256 << 20} {
		b.Run(strconv.FormatInt(size>>20, 10)+"MiB", func(b *testing.B) {
			var peak uint64
			for b.Loop() {
				peak = max(peak, benchutil.PeakHeap(func() {
					// The generator reads the size from the id.
					info, err := c.DownloadDocumento(context.Background(), strconv.FormatInt(size, 10), io.Discard)
					if err != nil || info.Dimensione != size {
						b.Fatalf("downloaded %v: %v", info, err)
					}
				}))
			}
			b.SetBytes(size)
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}

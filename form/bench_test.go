package form_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine/form"
	"github.com/visengine-go/visengine/visenginetest"
)

// BenchmarkPostA2 measures a complete A2 post with two 4 MiB scans (read,
// encoded, validated, confirmation rendered): the bytes allocated per
// byte uploaded show what the streaming into base64 costs, beside the
// floor, the base64 text itself (both scans encoded into buffers of the
// exact size).
func BenchmarkPostA2(b *testing.B) {
	b.Run("form", benchmarkPostA2)
	b.Run("floor", func(b *testing.B) {
		scan := bytes.Repeat([]byte("%PDF-1.4 scan "), 4<<20/14)
		b.SetBytes(2 * int64(len(scan)))
		b.ReportAllocs()
		var m0, m1 runtimeMem
		m0.read()
		for b.Loop() {
			for range 2 {
				dst := make([]byte, base64.StdEncoding.EncodedLen(len(scan)))
				base64.StdEncoding.Encode(dst, scan)
			}
		}
		m1.read()
		b.ReportMetric(float64(m1.alloc-m0.alloc)/float64(b.N)/float64(2*len(scan)), "alloc-bytes/upload-byte")
	})
}

func benchmarkPostA2(b *testing.B) {
	fake := visenginetest.NewServer()
	defer fake.Close()
	c := fake.Client()
	v, err := c.GetVisura(context.Background(), hashA2)
	require.NoError(b, err)
	h, err := form.New(c, v, form.WithLimits(form.Limits{MaxPending: 1 << 20, MaxPendingSize: 1 << 40}))
	require.NoError(b, err)
	scan := bytes.Repeat([]byte("%PDF-1.4 scan "), 4<<20/14)
	files := []upload{{"f5", "doc.pdf", "application/pdf", scan}, {"f6", "cf.pdf", "application/pdf", scan}}
	body, ct := multipartBody(b, fuzzToken, a2Applicant(), nil, files...)
	raw := body.(*bytes.Buffer).Bytes()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	var m0, m1 runtimeMem
	m0.read()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(raw))
		req.Header.Set("Content-Type", ct)
		req.AddCookie(&http.Cookie{Name: "visengine_form_csrf", Value: fuzzToken})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
	m1.read()
	b.ReportMetric(float64(m1.alloc-m0.alloc)/float64(b.N)/float64(len(raw)), "alloc-bytes/upload-byte")
}

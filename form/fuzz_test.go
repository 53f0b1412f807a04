package form_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine/form"
	"github.com/visengine-go/visengine/visenginetest"
)

// fuzzBoundary is the multipart boundary of the fuzzed bodies.
const fuzzBoundary = "fuzzboundary"

// fuzzToken is a well-formed CSRF token, in the cookie and (when the
// body says so) the field.
const fuzzToken = "AAAAAAAAAAAAAAAAAAAAAA"

// FuzzPost sends arbitrary multipart bodies to the form: it must answer
// with one of its statuses, never panic, and never send anything to
// Visengine (a POST / only validates).
func FuzzPost(f *testing.F) {
	fake := visenginetest.NewServer()
	defer fake.Close()
	c := fake.Client()
	v, err := c.GetVisura(context.Background(), hashA2)
	require.NoError(f, err)
	h, err := form.New(c, v, form.WithLimits(form.Limits{MaxFileSize: 1 << 10, MaxTotalSize: 64 << 10}))
	require.NoError(f, err)
	f.Add([]byte("--fuzzboundary\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n" + fuzzToken +
		"\r\n--fuzzboundary\r\nContent-Disposition: form-data; name=\"f0\"\r\n\r\nMario\r\n" +
		"--fuzzboundary\r\nContent-Disposition: form-data; name=\"f5\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\r\n" +
		"--fuzzboundary--\r\n"))
	f.Add([]byte(""))
	f.Add([]byte("--fuzzboundary--\r\n"))
	allowed := []int{http.StatusOK, http.StatusBadRequest, http.StatusForbidden,
		http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary="+fuzzBoundary)
		req.AddCookie(&http.Cookie{Name: "visengine_form_csrf", Value: fuzzToken})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if !slices.Contains(allowed, rec.Code) {
			t.Fatalf("status %d", rec.Code)
		}
		for _, r := range fake.Requests() {
			if r.Method != http.MethodGet {
				t.Fatalf("sent %s %s", r.Method, r.Path)
			}
		}
	})
}

package visenginetest_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/visenginetest"
)

// readPDF opens the document zip and returns the one file it must hold,
// <id>.pdf.
func readPDF(t *testing.T, a *visengine.ZipArchive, id string) []byte {
	t.Helper()
	files := a.Files()
	require.Len(t, files, 1)
	assert.Equal(t, id+".pdf", files[0].Name)
	rc, err := a.Open(id + ".pdf")
	require.NoError(t, err)
	defer rc.Close()
	pdf, err := io.ReadAll(rc)
	require.NoError(t, err)
	assert.Equal(t, files[0].Size, int64(len(pdf)))
	return pdf
}

// listDir returns the names in dir.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestSDKDownload: the finished document streams into a buffer of exactly
// dimensione bytes, is a zip holding <id>.pdf, lands in a file with mode
// 0600 and nothing else, and extracts to a folder.
func TestSDKDownload(t *testing.T) {
	srv, c := fake(t)
	ctx := testCtx(t)
	id := submitA2(t, c, 15)

	var early bytes.Buffer
	_, err := c.DownloadDocumento(ctx, id, &early)
	require.ErrorIs(t, err, visengine.ErrDocumentNotReady)
	var apiErr *visengine.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, []int{422, int(visengine.CodeDocumentNotReady)}, []int{apiErr.StatusCode, int(apiErr.Code)})
	assert.Zero(t, early.Len(), "nothing written before the document exists")
	assert.True(t, apiErr.Temporary())

	require.NoError(t, srv.Complete(id))
	var buf bytes.Buffer
	var done, total []int64
	info, err := c.DownloadDocumento(ctx, id, &buf, visengine.WithDownloadProgress(func(d, tot int64) {
		done, total = append(done, d), append(total, tot)
	}))
	require.NoError(t, err)
	assert.Equal(t, id+".zip", info.Nome)
	assert.Equal(t, int64(buf.Len()), info.Dimensione)
	assert.Greater(t, info.Dimensione, int64(100))
	require.NotEmpty(t, done)
	assert.Equal(t, info.Dimensione, done[len(done)-1], "progress ends at dimensione")
	assert.Equal(t, info.Dimensione, total[len(total)-1])
	for i := 1; i < len(done); i++ {
		assert.GreaterOrEqual(t, done[i], done[i-1], "progress never goes back")
	}

	a, err := visengine.OpenZip(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	pdf := readPDF(t, a, id)
	assert.True(t, bytes.HasPrefix(pdf, []byte("%PDF-")))
	assert.Contains(t, string(pdf), id)
	assert.True(t, bytes.HasSuffix(bytes.TrimSpace(pdf), []byte("%%EOF")))

	doc, err := c.GetDocumento(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, buf.Bytes(), doc.Data, "the same document in memory")

	dir := t.TempDir()
	path := filepath.Join(dir, "a2.zip")
	info2, err := c.DownloadToFile(ctx, id, path)
	require.NoError(t, err)
	assert.Equal(t, *info, *info2)
	assert.Equal(t, []string{"a2.zip"}, listDir(t, dir), "no temporary file left")
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	assert.Equal(t, info.Dimensione, st.Size())

	za, err := visengine.OpenZipFile(path)
	require.NoError(t, err)
	defer za.Close()
	out := filepath.Join(t.TempDir(), "estratti")
	require.NoError(t, za.ExtractTo(out))
	assert.Equal(t, []string{id + ".pdf"}, listDir(t, out))
	extracted, err := os.ReadFile(filepath.Join(out, id+".pdf"))
	require.NoError(t, err)
	assert.Equal(t, pdf, extracted)
	st, err = os.Stat(filepath.Join(out, id+".pdf"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
}

// TestSDKDownloadTruncated: a document body cut short fails with an error
// wrapping io.ErrUnexpectedEOF, whether or not bytes reached the writer,
// and DownloadToFile leaves the folder as it was.
func TestSDKDownloadTruncated(t *testing.T) {
	srv, c := fake(t)
	ctx := testCtx(t)
	id := submitA2(t, c, 16)
	require.NoError(t, srv.Complete(id))
	full, err := c.GetDocumento(ctx, id)
	require.NoError(t, err)

	for _, cut := range []int{30, 400, 1000} {
		srv.Fault("GET", "/documento/{id}", visenginetest.Fault{Truncate: cut})
		var buf bytes.Buffer
		_, err := c.DownloadDocumento(ctx, id, &buf)
		require.ErrorIs(t, err, io.ErrUnexpectedEOF, "cut at %d", cut)
		if buf.Len() > 0 {
			var pe *visengine.PartialDownloadError
			require.ErrorAs(t, err, &pe, "bytes were written: the caller must be told to discard them")
			assert.Equal(t, int64(buf.Len()), pe.Written)
		}
		if cut == 30 {
			assert.Zero(t, buf.Len(), "cut before the file: nothing written")
		} else {
			// Even when every byte of the zip arrived (cut 1000 falls after
			// "file"), the envelope did not end: the bytes must be discarded.
			assert.Positive(t, buf.Len(), "cut at %d", cut)
		}
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "a2.zip")
	srv.Fault("GET", "/documento/{id}", visenginetest.Fault{Truncate: 1000})
	_, err = c.DownloadToFile(ctx, id, path)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Empty(t, listDir(t, dir), "no partial or temporary file left")

	require.NoError(t, os.WriteFile(path, []byte("previous"), 0o600))
	srv.Fault("GET", "/documento/{id}", visenginetest.Fault{Truncate: 1000})
	_, err = c.DownloadToFile(ctx, id, path)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, []string{"a2.zip"}, listDir(t, dir))
	prev, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "previous", string(prev), "an existing file is untouched by a failed download")

	_, err = c.DownloadToFile(ctx, id, path)
	require.NoError(t, err, "the next, whole answer replaces it")
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, full.Data, got)
}

// TestSDKDownloadUnknownAndRetried: an unknown id is ErrNotFound; a 503 on
// the download is retried like any GET.
func TestSDKDownloadUnknownAndRetried(t *testing.T) {
	srv, c := fake(t)
	ctx := testCtx(t)
	_, err := c.DownloadDocumento(ctx, "000000000000000000000000", io.Discard)
	require.ErrorIs(t, err, visengine.ErrNotFound)

	id := submitA2(t, c, 17)
	require.NoError(t, srv.Complete(id))
	srv.Fault("GET", "/documento/{id}", visenginetest.Fault{Status: 503, RetryAfter: "0"})
	n0 := len(srv.Requests())
	var buf bytes.Buffer
	info, err := c.DownloadDocumento(ctx, id, &buf)
	require.NoError(t, err)
	assert.Equal(t, int64(buf.Len()), info.Dimensione)
	assert.Equal(t, 2, count(since(srv, n0), "GET", "/documento/"+id))
}

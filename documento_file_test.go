package visengine

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// assertNamesCallersPath checks what issue 9 #8 asks of every
// DownloadToFile error: the path the caller gave, never the temporary
// file, and one "visengine: " prefix.
func assertNamesCallersPath(t *testing.T, err error, path string) {
	t.Helper()
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, path)
	assert.NotContains(t, msg, ".part")
	assert.NotContains(t, msg, ".visengine-")
	assert.True(t, strings.HasPrefix(msg, "visengine: "), "prefix: %s", msg)
	assert.Equal(t, 1, strings.Count(msg, "visengine:"), "one prefix: %s", msg)
	var pe *fs.PathError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, path, pe.Path)
}

// The README's call, on a fresh checkout: "out/" does not exist yet.
func TestDownloadToFileCreatesMissingFolders(t *testing.T) {
	doc := testDocZip(t)
	srv := docServer(t, http.StatusOK, phpEnvelope(docID+".zip", len(doc), doc))
	c := newTestClient(t, srv.URL)
	root := t.TempDir()
	t.Chdir(root)

	info, err := c.DownloadToFile(context.Background(), docID, "out/"+docID+".zip")
	require.NoError(t, err)
	assert.Equal(t, int64(len(doc)), info.Dimensione)
	got, err := os.ReadFile(filepath.Join(root, "out", docID+".zip"))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(doc, got))

	// Two levels, both created 0700; the file 0600; nothing else.
	dest := filepath.Join(root, "a", "b", "doc.zip")
	_, err = c.DownloadToFile(context.Background(), docID, dest)
	require.NoError(t, err)
	for _, d := range []string{"out", "a", filepath.Join("a", "b")} {
		st, err := os.Stat(filepath.Join(root, d))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), st.Mode().Perm(), d)
	}
	st, err := os.Stat(dest)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	assert.Equal(t, []string{"a/b/doc.zip", "out/" + docID + ".zip"}, listTreeWithDirs(t, root))
}

// An existing folder keeps its mode: only missing ones are created 0700.
func TestDownloadToFileLeavesExistingFolders(t *testing.T) {
	doc := testDocZip(t)
	srv := docServer(t, http.StatusOK, phpEnvelope(docID+".zip", len(doc), doc))
	root := t.TempDir()
	shared := filepath.Join(root, "shared")
	require.NoError(t, os.Mkdir(shared, 0o755))
	require.NoError(t, os.Chmod(shared, 0o755)) // whatever the umask
	_, err := newTestClient(t, srv.URL).DownloadToFile(context.Background(), docID, filepath.Join(shared, "new", "doc.zip"))
	require.NoError(t, err)
	st, err := os.Stat(shared)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o755), st.Mode().Perm())
}

// A failed download removes the folders it created, and only those.
func TestDownloadToFileRemovesFoldersItCreatedOnError(t *testing.T) {
	srv := docServer(t, http.StatusOK, `{"data":null,"success":false,"message":"document not yet available","error":247}`)
	root := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(root, "kept"), 0o700))
	dest := filepath.Join(root, "kept", "new", "deeper", "doc.zip")
	_, err := newTestClient(t, srv.URL).DownloadToFile(context.Background(), docID, dest)
	require.ErrorIs(t, err, ErrDocumentNotReady)
	assert.Equal(t, 1, strings.Count(err.Error(), "visengine:"), err.Error())
	assert.NotContains(t, err.Error(), ".part")
	var partial *PartialDownloadError
	assert.False(t, errors.As(err, &partial))
	entries, err := os.ReadDir(filepath.Join(root, "kept"))
	require.NoError(t, err, "an existing folder is never removed")
	assert.Empty(t, entries, "new/ and new/deeper/ are gone")
}

// A download that fails half way is not a *PartialDownloadError to the
// caller of DownloadToFile: the partial bytes went to the temporary file,
// which is gone.
func TestDownloadToFilePartialIsNotReportedAsPartial(t *testing.T) {
	doc := testDocZip(t)
	srv := docServer(t, http.StatusOK, phpEnvelope("x.zip", len(doc)+1, doc)) // length mismatch after the bytes
	dir := t.TempDir()
	_, err := newTestClient(t, srv.URL).DownloadToFile(context.Background(), docID, filepath.Join(dir, "doc.zip"))
	require.ErrorIs(t, err, ErrIntegrity)
	var partial *PartialDownloadError
	assert.False(t, errors.As(err, &partial))
	assert.NotContains(t, err.Error(), "discard")
	assert.Empty(t, listTreeWithDirs(t, dir))
}

func TestDownloadToFileErrorsNameTheCallersPath(t *testing.T) {
	doc := testDocZip(t)
	srv := docServer(t, http.StatusOK, phpEnvelope("x.zip", len(doc), doc))
	c := newTestClient(t, srv.URL)
	root := t.TempDir()
	file := filepath.Join(root, "file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o600))
	folder := filepath.Join(root, "folder")
	require.NoError(t, os.MkdirAll(filepath.Join(folder, "inside"), 0o700))

	cases := map[string]struct {
		path  string
		cause error
	}{
		// mkdir fails: a file stands where a folder should.
		"parent is a file": {filepath.Join(file, "sub", "doc.zip"), syscall.ENOTDIR},
		// the temporary file cannot be created in a file.
		"folder is a file": {filepath.Join(file, "doc.zip"), syscall.ENOTDIR},
		// the download succeeds; the rename onto a folder fails (the
		// errno differs between systems).
		"path is a folder": {folder, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := c.DownloadToFile(context.Background(), docID, tc.path)
			assertNamesCallersPath(t, err, tc.path)
			if tc.cause != nil {
				assert.ErrorIs(t, err, tc.cause)
			}
			assert.Equal(t, []string{"file", "folder/inside/"}, listTreeWithDirs(t, root), "nothing left behind")
		})
	}
}

// Bad arguments are refused before the disk is touched: no folder appears.
func TestDownloadToFileBadArguments(t *testing.T) {
	srv := docServer(t, http.StatusOK, "{}")
	c := newTestClient(t, srv.URL)
	root := t.TempDir()
	dest := filepath.Join(root, "out", "doc.zip")
	var noCtx context.Context
	var noClient *Client
	for name, call := range map[string]func() error{
		"empty path": func() error { _, err := c.DownloadToFile(context.Background(), docID, ""); return err },
		"nil ctx":    func() error { _, err := c.DownloadToFile(noCtx, docID, dest); return err },
		"nil client": func() error { _, err := noClient.DownloadToFile(context.Background(), docID, dest); return err },
		"bad id":     func() error { _, err := c.DownloadToFile(context.Background(), "../x", dest); return err },
	} {
		assert.ErrorIs(t, call(), ErrInvalidArgument, name)
	}
	assert.Zero(t, srv.hits.Load())
	assert.Empty(t, listTreeWithDirs(t, root))
}

// A write failure (a full disk) names the caller's path and keeps the
// cause for errors.Is.
func TestPathWriterNamesTheCallersPath(t *testing.T) {
	w := &pathWriter{w: failingWriter{&fs.PathError{Op: "write", Path: "/tmp/out/.visengine-123.part", Err: syscall.ENOSPC}}, path: "out/doc.zip"}
	_, err := w.Write([]byte("PK"))
	require.Error(t, err)
	assert.Equal(t, "write out/doc.zip: no space left on device", err.Error())
	assert.ErrorIs(t, err, syscall.ENOSPC)
}

type failingWriter struct{ err error }

func (f failingWriter) Write([]byte) (int, error) { return 0, f.err }

// listTreeWithDirs lists root's files and folders (folders with a trailing
// "/", only when empty), relative and sorted.
func listTreeWithDirs(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if !d.IsDir() {
			out = append(out, filepath.ToSlash(rel))
			return nil
		}
		entries, err := os.ReadDir(p)
		if err == nil && len(entries) == 0 {
			out = append(out, filepath.ToSlash(rel)+"/")
		}
		return err
	})
	require.NoError(t, err)
	return out
}

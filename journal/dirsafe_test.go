//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package journal_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/journal"
)

// openWithin opens path, failing the test if OpenDir blocks.
func openWithin(t *testing.T, path string) (*journal.Dir, error) {
	t.Helper()
	type result struct {
		d   *journal.Dir
		err error
	}
	done := make(chan result, 1)
	go func() { d, err := journal.OpenDir(path); done <- result{d, err} }()
	select {
	case r := <-done:
		if r.d != nil {
			t.Cleanup(func() { _ = r.d.Close() })
		}
		return r.d, r.err
	case <-time.After(3 * time.Second):
		t.Fatal("OpenDir blocked")
		return nil, nil
	}
}

// A journal with one entry, closed, to plant things in.
func plantedJournal(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "journal")
	d, err := journal.OpenDir(path)
	require.NoError(t, err)
	create(t, d, 1, "owner-a", time.Hour)
	require.NoError(t, d.Close())
	return path
}

// What another user could have changed, and what is not a regular file,
// is refused with an error matching ErrUnsafe that says how to fix it,
// at once.
func TestOpenDirRefusesUnsafe(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "elsewhere.json")
	require.NoError(t, os.WriteFile(outside, []byte("{}"), 0o600))
	cases := map[string]struct {
		plant func(t *testing.T, path string)
		fix   string
	}{
		"world writable": {func(t *testing.T, path string) { require.NoError(t, os.Chmod(path, 0o777)) }, "chmod go-w"},
		"group writable": {func(t *testing.T, path string) { require.NoError(t, os.Chmod(path, 0o770)) }, "chmod go-w"},
		"symlink entry": {func(t *testing.T, path string) {
			require.NoError(t, os.Symlink(outside, filepath.Join(path, "0123456789abcdef0123456789abcdef.json")))
		}, "remove the link"},
		"symlink lock": {func(t *testing.T, path string) {
			require.NoError(t, os.Remove(filepath.Join(path, "LOCK")))
			require.NoError(t, os.Symlink(outside, filepath.Join(path, "LOCK")))
		}, "remove the link"},
		"fifo entry": {func(t *testing.T, path string) {
			require.NoError(t, syscall.Mkfifo(filepath.Join(path, "0123456789abcdef0123456789abcdef.json"), 0o600))
		}, "move it away"},
		"fifo lock": {func(t *testing.T, path string) {
			require.NoError(t, os.Remove(filepath.Join(path, "LOCK")))
			require.NoError(t, syscall.Mkfifo(filepath.Join(path, "LOCK"), 0o600))
		}, "move it away"},
		"folder entry": {func(t *testing.T, path string) {
			require.NoError(t, os.Mkdir(filepath.Join(path, "x.json"), 0o700))
		}, "move it away"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			path := plantedJournal(t)
			c.plant(t, path)
			_, err := openWithin(t, path)
			require.ErrorIs(t, err, journal.ErrUnsafe)
			assert.Contains(t, err.Error(), c.fix)
			assert.Contains(t, err.Error(), path)
		})
	}
}

// A directory owned by another user is refused. As root the test gives it
// to nobody; otherwise "/" is someone else's.
func TestOpenDirRefusesOtherOwner(t *testing.T) {
	path := "/"
	if os.Getuid() == 0 {
		path = plantedJournal(t)
		require.NoError(t, os.Chown(path, 65534, 65534))
	}
	_, err := openWithin(t, path)
	require.ErrorIs(t, err, journal.ErrUnsafe)
	assert.Contains(t, err.Error(), "owned by uid")
	assert.Contains(t, err.Error(), "chown")
}

// A second process stays out even when the lock file was unlinked while
// the first held it: the directory itself is locked.
func TestDirLockSurvivesUnlinkedLockFile(t *testing.T) {
	path := t.TempDir()
	openDir(t, path)
	require.NoError(t, os.Remove(filepath.Join(path, "LOCK")))
	result, _ := startChild(t, path)
	require.Equal(t, "locked", result)
	_, err := journal.OpenDir(path)
	require.ErrorIs(t, err, visengine.ErrJournalLocked)
}

// Regular files the journal does not know (a secret file, a note) and a
// mode stricter than 0700 are fine.
func TestOpenDirAllowsOwnRegularFiles(t *testing.T) {
	path := plantedJournal(t)
	require.NoError(t, os.WriteFile(filepath.Join(path, "secret.key"), []byte("k"), 0o600))
	require.NoError(t, os.Chmod(path, 0o755))
	d, err := openWithin(t, path)
	require.NoError(t, err)
	list, err := d.List(ctx, visengine.JournalFilter{})
	require.NoError(t, err)
	assert.Len(t, list, 1)
}

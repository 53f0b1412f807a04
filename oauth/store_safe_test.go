//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package oauth

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const goodStoreFile = `{"format":1,"token":"abc","expires_at":"2099-03-01T10:00:00Z","scopes":["GET:a/b"]}`

// loadWithin calls Load, failing the test if it blocks.
func loadWithin(t *testing.T, s *FileTokenStore) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { _, err := s.Load(context.Background()); done <- err }()
	select {
	case err := <-done:
		return err
	case <-time.After(3 * time.Second):
		t.Fatal("Load blocked")
		return nil
	}
}

// A token file someone else could have written is refused, at once, with
// an error that says how to fix it.
func TestFileStoreRefusesUnsafeFiles(t *testing.T) {
	elsewhere := filepath.Join(t.TempDir(), "attacker.json")
	require.NoError(t, os.WriteFile(elsewhere, []byte(goodStoreFile), 0o600))
	cases := map[string]struct {
		plant func(t *testing.T, path string)
		fix   string
	}{
		"group writable": {func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(path, []byte(goodStoreFile), 0o600))
			require.NoError(t, os.Chmod(path, 0o620))
		}, "chmod 600"},
		"world writable": {func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(path, []byte(goodStoreFile), 0o600))
			require.NoError(t, os.Chmod(path, 0o666))
		}, "chmod 600"},
		"symlink": {func(t *testing.T, path string) { require.NoError(t, os.Symlink(elsewhere, path)) }, "remove it"},
		"fifo":    {func(t *testing.T, path string) { require.NoError(t, syscall.Mkfifo(path, 0o600)) }, "move it away"},
		"folder":  {func(t *testing.T, path string) { require.NoError(t, os.Mkdir(path, 0o700)) }, "move it away"},
	}
	if os.Getuid() == 0 {
		cases["other owner"] = struct {
			plant func(t *testing.T, path string)
			fix   string
		}{func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(path, []byte(goodStoreFile), 0o600))
			require.NoError(t, os.Chown(path, 65534, 65534))
		}, "chown"}
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			store, path := newFileStore(t)
			c.plant(t, path)
			err := loadWithin(t, store)
			require.ErrorIs(t, err, ErrStoreUnsafe)
			assert.Contains(t, err.Error(), c.fix)
			assert.Contains(t, err.Error(), path)
		})
	}
}

// A FIFO at the store's path does not wedge Token: the file is ignored,
// a token is made, and the save replaces the FIFO with a 0600 file.
func TestTokenSourceFIFOStore(t *testing.T) {
	f := newFake(t)
	store, path := newFileStore(t)
	require.NoError(t, syscall.Mkfifo(path, 0o600))
	ts := newSource(t, f, false, WithStore(store))
	done := make(chan error, 1)
	go func() { _, err := ts.Token(context.Background()); done <- err }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Token blocked on the FIFO")
	}
	fi, err := os.Lstat(path)
	require.NoError(t, err)
	assert.True(t, fi.Mode().IsRegular())
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

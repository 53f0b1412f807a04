package journal_test

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine/internal/pgtest"
	"github.com/visengine-go/visengine/journal"
)

// A directory journal makes its secret on first use, in a file of its
// own readable by its owner only, and gives the same one after a reopen.
func TestDirSecretIsMadeOnceAndKept(t *testing.T) {
	path := t.TempDir()
	d := openDir(t, path)
	s1, err := d.DigestSecret(ctx)
	require.NoError(t, err)
	assert.Len(t, s1, 32)
	fi, err := os.Stat(filepath.Join(path, journal.SecretFile))
	require.NoError(t, err)
	if runtime.GOOS != "windows" {
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	}
	s2, err := d.DigestSecret(ctx)
	require.NoError(t, err)
	assert.Equal(t, s1, s2)
	require.NoError(t, d.Close())

	d = openDir(t, path)
	s3, err := d.DigestSecret(ctx)
	require.NoError(t, err)
	assert.Equal(t, s1, s3, "the same secret after a reopen")
	names, err := os.ReadDir(path)
	require.NoError(t, err)
	for _, n := range names {
		assert.False(t, strings.HasPrefix(n.Name(), ".tmp-"), "no temporary file left: %s", n.Name())
	}
}

// A secret written by hand before first use is the one used; one that
// others may read, or that is not hex, is refused rather than replaced.
func TestDirSecretSetByHandAndChecked(t *testing.T) {
	path := t.TempDir()
	want := strings.Repeat("ab", 32)
	file := filepath.Join(path, journal.SecretFile)
	require.NoError(t, os.WriteFile(file, []byte(want+"\n"), 0o600))
	d := openDir(t, path)
	s, err := d.DigestSecret(ctx)
	require.NoError(t, err)
	assert.Equal(t, want, hex.EncodeToString(s))
	require.NoError(t, d.Close())

	if runtime.GOOS != "windows" {
		path2 := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(path2, journal.SecretFile), []byte(want), 0o644))
		require.NoError(t, os.Chmod(filepath.Join(path2, journal.SecretFile), 0o644))
		_, err = openDir(t, path2).DigestSecret(ctx)
		require.ErrorContains(t, err, "chmod 600")
	}
	path3 := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(path3, journal.SecretFile), []byte("not hex at all"), 0o600))
	_, err = openDir(t, path3).DigestSecret(ctx)
	require.ErrorContains(t, err, "hex digits")
	assert.NotContains(t, err.Error(), "not hex at all", "the content is never quoted")
}

// Replicas opening the same PostgreSQL journal through their own pools, at
// once, all get the one secret, from a table of its own.
func TestPostgresSecretSharedByReplicas(t *testing.T) {
	url := pgtest.Start(t)
	var wg sync.WaitGroup
	secrets := make([][]byte, 4)
	errs := make([]error, 4)
	for i := range secrets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := journal.OpenPostgres(ctx, openPool(t, url))
			if err == nil {
				secrets[i], err = p.DigestSecret(ctx)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i := range secrets {
		require.NoError(t, errs[i])
		assert.Len(t, secrets[i], 32)
		assert.Equal(t, secrets[0], secrets[i])
	}
	var n int
	require.NoError(t, openPool(t, url).QueryRowContext(ctx, `SELECT count(*) FROM visengine_journal_secret`).Scan(&n))
	assert.Equal(t, 1, n)

	p := openPostgres(t, url)
	now, err := p.JournalNow(ctx)
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), now, time.Minute, "the test cluster runs on this machine's clock")
}

//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/visenginetest"
)

// secretCanary is in the file outside the applicant's folder, and in the
// environment, which /proc/self/environ shows.
const secretCanary = "SECRET-CANARY-0d3adb33f"

// a2 is the A2 service's structure, read from the fake.
func a2(t *testing.T) *visengine.Visura {
	t.Helper()
	srv := visenginetest.NewServer()
	t.Cleanup(srv.Close)
	v, err := srv.Client().GetVisura(context.Background(), "2631ec9b62135de4186f509fea7d954b")
	require.NoError(t, err)
	return v
}

// plantApplicantFolder builds the folder the corpus's tricks aim at: the
// applicant's own folder app, with good scans, and around it what an
// "@" value must not reach. It returns app.
func plantApplicantFolder(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	app, outside := filepath.Join(base, "app"), filepath.Join(base, "outside")
	for _, d := range []string{app, outside, filepath.Join(app, "scans"), filepath.Join(app, "folder.pdf")} {
		require.NoError(t, os.MkdirAll(d, 0o700))
	}
	files := map[string]string{
		filepath.Join(outside, "secret.pdf"):     "%PDF-1.4 " + secretCanary,
		filepath.Join(app, "scan.pdf"):           "%PDF-1.4 a scan",
		filepath.Join(app, "scans", "doc.png"):   "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
		filepath.Join(app, "scans", "photo.jpg"): "\xff\xd8\xff\xe0\x00\x10JFIF\x00",
		filepath.Join(app, "text.pdf"):           "not a scan " + secretCanary,
		filepath.Join(app, "page.png"):           "<html><body>" + secretCanary,
	}
	for name, content := range files {
		require.NoError(t, os.WriteFile(name, []byte(content), 0o600))
	}
	big, err := os.Create(filepath.Join(app, "big.pdf"))
	require.NoError(t, err)
	_, err = big.WriteString("%PDF-1.4 ")
	require.NoError(t, err)
	require.NoError(t, big.Truncate(visengine.DefaultMaxFileSize+1)) // sparse
	require.NoError(t, big.Close())
	links := map[string]string{
		"in-link.pdf": "scan.pdf", "out-link.pdf": "../outside/secret.pdf",
		"abs-link.pdf": filepath.Join(outside, "secret.pdf"), "dirlink": "../outside",
		"environ-link": "/proc/self/environ", "zero.pdf": "/dev/zero",
	}
	for name, target := range links {
		require.NoError(t, os.Symlink(target, filepath.Join(app, name)))
	}
	require.NoError(t, syscall.Mkfifo(filepath.Join(app, "pipe.pdf"), 0o600))
	return app
}

// TestApplicantFileTricks reads every applicant of
// testdata/hostile/applicants from a planted folder: the refused ones fail
// at once without a byte of what they aim at in the error, the accepted
// ones read.
func TestApplicantFileTricks(t *testing.T) {
	t.Setenv("VISENGINE_TOKEN", secretCanary)
	v := a2(t)
	app := plantApplicantFolder(t)
	paths, err := filepath.Glob(filepath.Join("testdata", "hostile", "applicants", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			target := filepath.Join(app, name+".json")
			require.NoError(t, os.WriteFile(target, []byte(strings.ReplaceAll(string(raw), "${DIR}", app)), 0o600))
			start := time.Now()
			values, err := readApplicant(target, v)
			assert.Less(t, time.Since(start), 2*time.Second, "never blocks")
			if strings.HasPrefix(name, "accepted-") {
				require.NoError(t, err)
				assert.NotEmpty(t, values)
				return
			}
			require.Error(t, err)
			assert.NotContains(t, err.Error(), secretCanary)
			assert.NotContains(t, err.Error(), "outside")
			for _, val := range values {
				assert.NotContains(t, val, secretCanary)
			}
		})
	}
}

// TestApplicantJSONNotRegular refuses, at once, an applicant "file" that is
// a device or a FIFO, and one over the size cap.
func TestApplicantJSONNotRegular(t *testing.T) {
	v := a2(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "applicant.json")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	big := filepath.Join(dir, "big.json")
	f, err := os.Create(big)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(maxApplicantSize+1))
	require.NoError(t, f.Close())
	for _, path := range []string{"/dev/zero", fifo, big, dir} {
		start := time.Now()
		_, err := readApplicant(path, v)
		require.Error(t, err, path)
		assert.Less(t, time.Since(start), 2*time.Second, path)
	}
}

package visengine

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"hash/crc32"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// zipEntry is one entry of a test archive. With raw set, the entry is
// written with CreateRaw: data is then the stored (compressed) bytes and
// raw's sizes and CRC are used as given, which lets tests forge headers.
type zipEntry struct {
	name string
	data []byte
	mode fs.FileMode // 0 means a regular 0644 file
	raw  *zip.FileHeader
}

func buildZip(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		var w io.Writer
		var err error
		if e.raw != nil {
			e.raw.Name = e.name
			w, err = zw.CreateRaw(e.raw)
		} else {
			hdr := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
			hdr.SetMode(e.mode | 0o644)
			if e.mode == 0 {
				hdr.SetMode(0o644)
			}
			w, err = zw.CreateHeader(hdr)
		}
		require.NoError(t, err)
		_, err = w.Write(e.data)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func deflate(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestCompression)
	require.NoError(t, err)
	_, err = fw.Write(data)
	require.NoError(t, err)
	require.NoError(t, fw.Close())
	return buf.Bytes()
}

// forged is a deflated entry whose header declares size bytes.
func forged(t testing.TB, name string, content []byte, size uint64) zipEntry {
	comp := deflate(t, content)
	return zipEntry{name: name, data: comp, raw: &zip.FileHeader{
		Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(content),
		CompressedSize64: uint64(len(comp)), UncompressedSize64: size,
	}}
}

func stored(name string, content []byte, size uint64, method uint16) zipEntry {
	return zipEntry{name: name, data: content, raw: &zip.FileHeader{
		Method: method, CRC32: crc32.ChecksumIEEE(content),
		CompressedSize64: uint64(len(content)), UncompressedSize64: size,
	}}
}

// dirWithData is a directory-mode entry carrying content (archive/zip will
// not write data under a name ending in "/", so the name has none).
func dirWithData() zipEntry {
	e := stored("dir", []byte("abc"), 3, zip.Store)
	e.raw.SetMode(fs.ModeDir | 0o755)
	return e
}

func file(name, content string) zipEntry { return zipEntry{name: name, data: []byte(content)} }

// listTree returns every path under dir, relative to it.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if rel, _ := filepath.Rel(dir, p); rel != "." {
			out = append(out, rel)
		}
		return nil
	}))
	return out
}

func openBytes(b []byte, opts ...ZipOption) (*ZipArchive, error) {
	return OpenZip(bytes.NewReader(b), int64(len(b)), opts...)
}

func TestOpenZipRefusesUnsafeArchives(t *testing.T) {
	zeros := make([]byte, 10<<20) // deflates about 1000:1
	cases := map[string][]zipEntry{
		"zip-slip":            {file("../evil", "x")},
		"nested slip":         {file("a/../../evil", "x")},
		"absolute":            {file("/etc/x", "x")},
		"windows drive":       {file(`C:\x`, "x")},
		"drive relative":      {file("C:x", "x")},
		"windows slip":        {file(`..\x`, "x")},
		"backslash":           {file(`a\b`, "x")},
		"NUL":                 {file("a\x00b", "x")},
		"newline":             {file("a\nb", "x")},
		"C1 control":          {file("a\u0085b", "x")},
		"invalid UTF-8":       {file("a\xffb", "x")},
		"dot element":         {file("./a", "x")},
		"empty element":       {file("a//b", "x")},
		"symlink":             {{name: "link", data: []byte("/etc/passwd"), mode: fs.ModeSymlink}},
		"named pipe":          {{name: "fifo", mode: fs.ModeNamedPipe}},
		"duplicate":           {file("a.pdf", "1"), file("a.pdf", "2")},
		"duplicate cleaned":   {file("d/", ""), file("d", "x")},
		"duplicate case":      {file("a.pdf", "1"), file("A.PDF", "2")},
		"file as parent":      {file("a", "1"), file("a/b", "2")},
		"ratio bomb":          {{name: "zeros", data: zeros}},
		"declared huge":       {forged(t, "big", []byte("x"), 2<<30)},
		"stored size lie":     {stored("s", []byte("abcdef"), 3, zip.Store)},
		"unsupported method":  {stored("bz", []byte("abc"), 3, 12)},
		"encrypted":           {{name: "enc", data: []byte("abc"), raw: &zip.FileHeader{Method: zip.Store, Flags: 0x1, CompressedSize64: 3, UncompressedSize64: 3}}},
		"directory with data": {dirWithData()},
	}
	for name, entries := range cases {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			a, err := openBytes(buildZip(t, entries...))
			require.ErrorIs(t, err, ErrUnsafeZip)
			assert.Nil(t, a)
			var ze *ZipError
			require.ErrorAs(t, err, &ze)
			assert.NotContains(t, err.Error(), "\x00")
			assert.Empty(t, listTree(t, parent), "nothing may be written")
		})
	}
}

func TestOpenZipLimits(t *testing.T) {
	t.Run("too many entries", func(t *testing.T) {
		// Twice the default limit: refused by default, accepted when the
		// limit is raised (100,000 entries took seconds under -race).
		entries := make([]zipEntry, 2*DefaultZipMaxEntries)
		for i := range entries {
			entries[i] = stored("f"+strconv.Itoa(i), nil, 0, zip.Store)
		}
		b := buildZip(t, entries...)
		_, err := openBytes(b)
		assert.ErrorIs(t, err, ErrUnsafeZip)
		_, err = openBytes(b, WithZipMaxEntries(2*DefaultZipMaxEntries))
		assert.NoError(t, err)
	})
	t.Run("count read from the end record first", func(t *testing.T) {
		// An end record alone, claiming 60,000 entries: refused on the
		// claim, before archive/zip would read (or allocate) a directory.
		eocd := []byte{'P', 'K', 5, 6, 0, 0, 0, 0, 0x60, 0xea, 0x60, 0xea, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
		_, err := openBytes(eocd)
		require.ErrorIs(t, err, ErrUnsafeZip)
		assert.Contains(t, err.Error(), "60000 entries declared")
		entries := make([]zipEntry, 1001)
		for i := range entries {
			entries[i] = file("f"+strconv.Itoa(i), "")
		}
		_, err = openBytes(buildZip(t, entries...))
		assert.ErrorIs(t, err, ErrUnsafeZip)
		assert.Contains(t, err.Error(), "1001 entries declared")
	})
	t.Run("total size", func(t *testing.T) {
		b := buildZip(t, file("a", "12345"), file("b", "67890"))
		_, err := openBytes(b, WithZipMaxTotalSize(9))
		assert.ErrorIs(t, err, ErrUnsafeZip)
		_, err = openBytes(b, WithZipMaxTotalSize(10))
		assert.NoError(t, err)
	})
	t.Run("ratio", func(t *testing.T) {
		b := buildZip(t, zipEntry{name: "zeros", data: make([]byte, 1<<20)})
		_, err := openBytes(b, WithZipMaxRatio(10_000))
		assert.NoError(t, err)
	})
	t.Run("not a zip", func(t *testing.T) {
		_, err := openBytes([]byte("%PDF-1.7 not a zip"))
		assert.ErrorIs(t, err, ErrNotZip)
		_, err = OpenZip(nil, 0)
		assert.ErrorIs(t, err, ErrNotZip)
	})
	t.Run("forged compressed size cannot overflow the ratio check", func(t *testing.T) {
		assert.False(t, overRatio(1<<30, 1<<62, 100))
		assert.True(t, overRatio(1<<30, 1<<20, 100))
		assert.False(t, overRatio(100<<20, 1<<20, 100))
	})
}

// TestExtractToRefusesLyingSizes covers headers that pass OpenZip but whose
// content disagrees with them: extraction fails with ErrIntegrity and leaves
// nothing behind, inside or outside the target.
func TestExtractToRefusesLyingSizes(t *testing.T) {
	content := bytes.Repeat([]byte("visura "), 200)
	cases := map[string]zipEntry{
		"declared smaller": forged(t, "d/x.pdf", content, uint64(len(content)-10)),
		"declared larger":  forged(t, "d/x.pdf", content, uint64(len(content)+10)),
	}
	for name, lie := range cases {
		t.Run(name, func(t *testing.T) {
			a, err := openBytes(buildZip(t, file("ok.pdf", "fine"), lie))
			require.NoError(t, err)
			parent := t.TempDir()
			target := filepath.Join(parent, "out")
			err = a.ExtractTo(target)
			require.ErrorIs(t, err, ErrIntegrity)
			assert.Equal(t, []string{"out"}, listTree(t, parent))

			rc, err := a.Open("d/x.pdf")
			require.NoError(t, err)
			_, err = io.Copy(io.Discard, rc)
			assert.ErrorIs(t, err, ErrIntegrity)
			require.NoError(t, rc.Close())
		})
	}
}

func TestExtractToDoesNotFollowPlantedLink(t *testing.T) {
	parent := t.TempDir()
	target := filepath.Join(parent, "out")
	outside := filepath.Join(parent, "outside")
	require.NoError(t, os.MkdirAll(target, 0o750))
	require.NoError(t, os.Mkdir(outside, 0o750))
	require.NoError(t, os.Symlink(outside, filepath.Join(target, "d")))

	a, err := openBytes(buildZip(t, file("d/x.pdf", "x")))
	require.NoError(t, err)
	require.Error(t, a.ExtractTo(target))
	assert.Empty(t, listTree(t, outside))
}

func TestExtractToBenign(t *testing.T) {
	big := make([]byte, 160_000) // incompressible, unlike a repeated pattern
	_, _ = rand.NewChaCha8([32]byte{5}).Read(big)
	b := buildZip(t,
		file("doc/", ""),
		file("doc/visura.pdf", "%PDF-1.7 content"),
		zipEntry{name: "doc/sub/big.bin", data: big},
		stored("readme.txt", []byte("stored"), 6, zip.Store),
	)
	a, err := openBytes(b)
	require.NoError(t, err)
	names := []string{}
	for _, e := range a.Files() {
		names = append(names, e.Name)
	}
	assert.Equal(t, []string{"doc/sub/big.bin", "doc/visura.pdf", "readme.txt"}, names)
	assert.Equal(t, int64(len(big)), a.Files()[0].Size)

	dir := filepath.Join(t.TempDir(), "out")
	require.NoError(t, a.ExtractTo(dir))
	for name, want := range map[string][]byte{
		"doc/visura.pdf": []byte("%PDF-1.7 content"), "doc/sub/big.bin": big, "readme.txt": []byte("stored"),
	} {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(want, got), name)
		st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(name)))
		require.NoError(t, err)
		assert.Equal(t, fs.FileMode(extractFileMode), st.Mode().Perm())
	}
	// A second extraction must not overwrite what is there.
	assert.ErrorIs(t, a.ExtractTo(dir), fs.ErrExist)
	got, err := os.ReadFile(filepath.Join(dir, "readme.txt"))
	require.NoError(t, err)
	assert.Equal(t, "stored", string(got))

	rc, err := a.Open("doc/visura.pdf")
	require.NoError(t, err)
	data, err := io.ReadAll(rc)
	require.NoError(t, err)
	assert.Equal(t, "%PDF-1.7 content", string(data))
	_, err = a.Open("missing")
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

func TestOpenZipFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.zip")
	require.NoError(t, os.WriteFile(p, buildZip(t, file("a.pdf", "x")), 0o600))
	a, err := OpenZipFile(p)
	require.NoError(t, err)
	assert.Len(t, a.Files(), 1)
	require.NoError(t, a.Close())
	_, err = OpenZipFile(filepath.Join(t.TempDir(), "missing.zip"))
	assert.True(t, errors.Is(err, fs.ErrNotExist))
}

func TestZipErrorQuotesName(t *testing.T) {
	_, err := openBytes(buildZip(t, file("../\x1b[31mred\n", "x")))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "\x1b")
	assert.NotContains(t, err.Error(), "\n")
}

// FuzzOpenZip opens arbitrary bytes with a small entry limit, so that short
// inputs reach the count checks too. An accepted archive must respect the
// limit, hold only safe and distinct names, and never yield more bytes than
// an entry declares. Seeds: testdata/fuzz/FuzzOpenZip, the testdata/zip
// corpus and crafted end records.
func FuzzOpenZip(f *testing.F) {
	const maxEntries = 16
	f.Add(buildZip(f, file("doc/a.pdf", "%PDF"), stored("b.txt", []byte("b"), 1, zip.Store)))
	f.Add(buildZip(f, file("../evil", "x")))
	f.Add(buildZip(f, forged(f, "x", []byte("abcabcabc"), 4)))
	f.Add([]byte("PK\x05\x06" + string(make([]byte, 18))))
	for _, b := range zipCorpusSeeds(f) {
		f.Add(b)
	}
	f.Add(rawDirectory(maxEntries+1, 1, false)) // holds more than it declares
	f.Add(rawDirectory(maxEntries+1, 1, true))
	f.Add(rawDirectory(3, 3, true))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := openBytes(b, WithZipMaxTotalSize(1<<20), WithZipMaxEntries(maxEntries))
		if err != nil {
			return
		}
		if n := len(a.files) + len(a.dirs); n > maxEntries {
			t.Fatalf("accepted %d entries, limit %d", n, maxEntries)
		}
		keys := map[string]bool{}
		for _, f := range a.files {
			if reason := unsafeName(f.Name); reason != "" || keys[foldKey(f.Name)] {
				t.Fatalf("accepted name %+q: %s (or a duplicate)", f.Name, reason)
			}
			keys[foldKey(f.Name)] = true
		}
		for _, e := range a.Files() {
			rc, err := a.Open(e.Name)
			if err != nil {
				continue
			}
			n, _ := io.Copy(io.Discard, rc)
			if n > e.Size {
				t.Fatalf("read %d bytes from an entry declaring %d", n, e.Size)
			}
			rc.Close()
		}
	})
}

package visengine

import (
	"bytes"
	"encoding/binary"
	"io"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawDirectory builds an archive of n empty stored entries named "0", "1"…
// as a bare central directory: OpenZip reads nothing else, so local headers
// are left out and a 393,000-entry archive costs 20 MB, not 38. The end
// record declares declared entries (its 16-bit field keeps the low bits);
// with zip64 the count, size and offset live in a zip64 end record instead.
func rawDirectory(n int, declared uint64, zip64 bool) []byte {
	var b bytes.Buffer
	b.Write(dirHeaders(n))
	dirSize := uint64(b.Len())
	le := binary.LittleEndian
	var end [22]byte
	le.PutUint32(end[0:], 0x06054b50)
	le.PutUint16(end[8:], uint16(declared))
	le.PutUint16(end[10:], uint16(declared))
	le.PutUint32(end[12:], uint32(dirSize))
	if zip64 {
		var rec [56]byte
		le.PutUint32(rec[0:], 0x06064b50)
		le.PutUint64(rec[4:], 56-12)
		le.PutUint16(rec[12:], 45)
		le.PutUint16(rec[14:], 45)
		le.PutUint64(rec[24:], declared)
		le.PutUint64(rec[32:], declared)
		le.PutUint64(rec[40:], dirSize)
		var loc [20]byte
		le.PutUint32(loc[0:], 0x07064b50)
		le.PutUint64(loc[8:], dirSize) // the zip64 record follows the directory
		le.PutUint32(loc[16:], 1)
		b.Write(rec[:])
		b.Write(loc[:])
		for _, i := range []int{8, 10, 12} {
			le.PutUint16(end[i:], 0xffff)
		}
		le.PutUint32(end[12:], 0xffffffff)
		le.PutUint32(end[16:], 0xffffffff)
	}
	b.Write(end[:])
	return b.Bytes()
}

// toZip64 moves the entry count, size and offset of a comment-less archive's
// end record into a zip64 end record, as writers do for huge archives.
func toZip64(b []byte) []byte {
	le := binary.LittleEndian
	end := bytes.Clone(b[len(b)-22:])
	out := bytes.Clone(b[:len(b)-22])
	var rec [56]byte
	le.PutUint32(rec[0:], 0x06064b50)
	le.PutUint64(rec[4:], 56-12)
	le.PutUint16(rec[12:], 45)
	le.PutUint16(rec[14:], 45)
	le.PutUint64(rec[24:], uint64(le.Uint16(end[8:])))
	le.PutUint64(rec[32:], uint64(le.Uint16(end[10:])))
	le.PutUint64(rec[40:], uint64(le.Uint32(end[12:])))
	le.PutUint64(rec[48:], uint64(le.Uint32(end[16:])))
	var loc [20]byte
	le.PutUint32(loc[0:], 0x07064b50)
	le.PutUint64(loc[8:], uint64(len(out)))
	le.PutUint32(loc[16:], 1)
	le.PutUint32(end[8:], 0xffffffff) // both 16-bit counts
	le.PutUint32(end[12:], 0xffffffff)
	le.PutUint32(end[16:], 0xffffffff)
	return append(append(append(out, rec[:]...), loc[:]...), end...)
}

// dirHeaders is n central-directory headers of empty stored files "0", "1"…
func dirHeaders(n int) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	for i := range n {
		name := strconv.Itoa(i)
		var h [46]byte
		le.PutUint32(h[0:], 0x02014b50)
		le.PutUint16(h[4:], 20) // made by: MS-DOS, version 2.0
		le.PutUint16(h[6:], 20) // needed to extract
		le.PutUint16(h[14:], 0x21)
		le.PutUint16(h[28:], uint16(len(name)))
		b.Write(h[:])
		b.WriteString(name)
	}
	return b.Bytes()
}

// heapCost returns the bytes and objects f allocates.
func heapCost(f func()) (bytes, objects uint64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, after.Mallocs - before.Mallocs
}

// TestOpenZipTruncatedCount: an archive whose 16-bit count says 3 while its
// directory holds 65,539 entries (65,539 mod 65,536 = 3, so archive/zip
// believes it) is refused after counting 1,001 headers, without archive/zip
// parsing, and allocating for, each of them.
func TestOpenZipTruncatedCount(t *testing.T) {
	b := rawDirectory(65536+3, 3, false)
	var err error
	allocated, objects := heapCost(func() { _, err = openBytes(b) })
	require.ErrorIs(t, err, ErrUnsafeZip)
	assert.Contains(t, err.Error(), "more than 1000 entries in the central directory (3 declared)")
	t.Logf("refused a %d-byte archive: %d bytes in %d objects allocated", len(b), allocated, objects)
	assert.Less(t, allocated, uint64(128<<10), "the 65 KiB end-record search, not one header per entry")
	assert.Less(t, objects, uint64(100))

	_, err = openBytes(b, WithZipMaxEntries(70_000))
	assert.NoError(t, err, "under a higher limit the same archive opens")
}

func TestOpenZipEntryCountAtLimit(t *testing.T) {
	for _, zip64 := range []bool{false, true} {
		_, err := openBytes(rawDirectory(1000, 1000, zip64))
		assert.NoError(t, err, "zip64 %v: exactly the limit", zip64)
		_, err = openBytes(rawDirectory(1001, 1001, zip64))
		assert.ErrorIs(t, err, ErrUnsafeZip, "zip64 %v: declared over the limit", zip64)
		_, err = openBytes(rawDirectory(1001, 3, zip64))
		assert.ErrorIs(t, err, ErrUnsafeZip, "zip64 %v: held over the limit", zip64)
		assert.ErrorContains(t, err, "more than 1000 entries in the central directory")
	}
}

func TestOpenZip64EndRecord(t *testing.T) {
	t.Run("huge declared count", func(t *testing.T) {
		b := rawDirectory(3, 1<<40, true)
		var err error
		allocated, _ := heapCost(func() { _, err = openBytes(b) })
		require.ErrorIs(t, err, ErrUnsafeZip)
		assert.Contains(t, err.Error(), "1099511627776 entries declared")
		assert.Less(t, allocated, uint64(128<<10))
	})
	t.Run("valid", func(t *testing.T) {
		a, err := openBytes(rawDirectory(3, 3, true))
		require.NoError(t, err)
		assert.Len(t, a.Files(), 3)
		a, err = openBytes(toZip64(buildZip(t, file("a.pdf", "x"), file("b.pdf", "yy"))))
		require.NoError(t, err)
		require.Len(t, a.Files(), 2)
		rc, err := a.Open("b.pdf")
		require.NoError(t, err)
		got, err := io.ReadAll(rc)
		require.NoError(t, err)
		assert.Equal(t, "yy", string(got))
	})
	t.Run("locator points outside", func(t *testing.T) {
		b := rawDirectory(3, 3, true)
		binary.LittleEndian.PutUint64(b[len(b)-22-20+8:], 1<<62)
		_, err := openBytes(b)
		assert.ErrorIs(t, err, ErrNotZip)
	})
	t.Run("directory size larger than the archive", func(t *testing.T) {
		b := rawDirectory(3, 3, true)
		binary.LittleEndian.PutUint64(b[len(b)-22-20-56+40:], 1<<40)
		_, err := openBytes(b)
		assert.ErrorIs(t, err, ErrNotZip)
	})
}

// TestCountDirHeadersWithPrefix: data prepended to an archive (a
// self-extractor) shifts every offset; archive/zip then reads from the end
// record's position, and so does the count.
func TestCountDirHeadersWithPrefix(t *testing.T) {
	b := append(bytes.Repeat([]byte{0}, 4096), rawDirectory(1001, 3, false)...)
	_, err := openBytes(b)
	assert.ErrorIs(t, err, ErrUnsafeZip)
	assert.ErrorContains(t, err, "more than 1000 entries")
	b = append(bytes.Repeat([]byte{0}, 4096), rawDirectory(5, 5, false)...)
	a, err := openBytes(b)
	require.NoError(t, err)
	assert.Len(t, a.Files(), 5)
}

// BenchmarkOpenZipTruncatedCount is the hostile run's archive: 393,219
// entries declared as 3. B/op is what refusing it costs.
func BenchmarkOpenZipTruncatedCount(b *testing.B) {
	data := rawDirectory(6*65536+3, 3, false)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := openBytes(data); err == nil {
			b.Fatal("accepted")
		}
	}
}

// TestCountDirHeadersAtDeclaredOffset: when the end record's offset and size
// disagree, archive/zip reads from the declared offset if a header is there.
// Here 65,537 headers hide before a 2-entry directory: archive/zip would
// parse all 65,539 (≡ 3 declared); the count walks both places and refuses
// cheaply.
func TestCountDirHeadersAtDeclaredOffset(t *testing.T) {
	hidden, real := dirHeaders(65536+1), dirHeaders(2)
	var end [22]byte
	le := binary.LittleEndian
	le.PutUint32(end[0:], 0x06054b50)
	le.PutUint16(end[8:], 3)
	le.PutUint16(end[10:], 3)
	le.PutUint32(end[12:], uint32(len(real)))
	b := append(append(hidden, real...), end[:]...) // directory offset 0
	var err error
	allocated, _ := heapCost(func() { _, err = openBytes(b) })
	require.ErrorIs(t, err, ErrUnsafeZip)
	assert.ErrorContains(t, err, "more than 1000 entries")
	assert.Less(t, allocated, uint64(128<<10))
}

// BenchmarkOpenZip is the cost of the checks on an ordinary archive: a few
// documents, and the 1,000 entries the default limit allows.
func BenchmarkOpenZip(b *testing.B) {
	for _, n := range []int{5, 1000} {
		entries := make([]zipEntry, n)
		for i := range entries {
			entries[i] = file("documenti/visura n° "+strconv.Itoa(i)+".pdf", "%PDF")
		}
		data := buildZip(b, entries...)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := openBytes(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

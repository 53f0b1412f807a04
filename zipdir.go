package visengine

import (
	"encoding/binary"
	"fmt"
	"io"
)

// archive/zip reads every central-directory header it finds before anyone
// can look at the count: the end record's 16-bit count is only compared
// modulo 65536, so an archive declaring 3 entries may hold 393,000 and cost
// a header allocation each. checkEntryCount counts the headers first, the
// way archive/zip will find them, and stops one past the limit.

// Zip record layouts (APPNOTE.TXT 4.3.12-4.3.16).
const (
	zipDirHeaderSig = 0x02014b50 // central directory file header
	zipDirHeaderLen = 46         // + name + extra + comment
	zipEndSig       = 0x06054b50 // end of central directory record
	zipEndLen       = 22         // + comment
	zip64LocSig     = 0x07064b50 // zip64 end of central directory locator
	zip64LocLen     = 20
	zip64EndSig     = 0x06064b50 // zip64 end of central directory record
	zip64EndLen     = 56
	// zipEndSearch is how far from the end archive/zip looks for the end
	// record: the longest comment plus the record, rounded up.
	zipEndSearch = 65 * 1024
)

// zipDirEnd is what the end records say about the central directory.
type zipDirEnd struct {
	end      int64  // offset of the end record archive/zip uses (zip64 one if any)
	records  uint64 // entries declared
	dirSize  uint64
	dirStart uint64 // offset of the directory, relative to the archive's start
}

// checkEntryCount refuses an archive that declares, or holds, more than
// limit central-directory headers. It reads at most the end records and
// limit+1 fixed-size headers, so its cost does not grow with the archive.
// Archives archive/zip cannot read pass through: zip.NewReader reports them.
func checkEntryCount(r io.ReaderAt, size int64, limit int) error {
	d, ok := readZipDirEnd(r, size)
	if !ok {
		return nil
	}
	if d.records > uint64(max(limit, 0)) {
		return unsafeZip("", fmt.Sprintf("%d entries declared, more than the limit of %d", d.records, limit))
	}
	// archive/zip starts at end-dirSize, or at dirStart when that lies before
	// (data prepended to the archive) and a header is found there: count both.
	first := d.end - int64(d.dirSize)
	if first < 0 || first >= size {
		return nil
	}
	n := countDirHeaders(r, size, first, limit)
	if uint64(first) > d.dirStart {
		n = max(n, countDirHeaders(r, size, int64(d.dirStart), limit))
	}
	if n > limit {
		return unsafeZip("", fmt.Sprintf("more than %d entries in the central directory (%d declared)", limit, d.records))
	}
	return nil
}

// countDirHeaders counts the central-directory headers from off as
// archive/zip reads them (until a wrong signature or the end of the data),
// stopping at limit+1.
func countDirHeaders(r io.ReaderAt, size, off int64, limit int) int {
	var h [zipDirHeaderLen]byte
	n := 0
	for ; n <= limit; n++ {
		if off > size-zipDirHeaderLen {
			break
		}
		if m, _ := r.ReadAt(h[:], off); m < len(h) || le32(h[:]) != zipDirHeaderSig {
			break
		}
		off += zipDirHeaderLen + int64(le16(h[28:])) + int64(le16(h[30:])) + int64(le16(h[32:]))
		if off > size { // name, extra or comment cut short: archive/zip drops the entry
			break
		}
	}
	return n
}

// readZipDirEnd finds the end record as archive/zip does (the last
// signature in the last 65 KiB whose comment fits) and, when its fields are
// saturated, the zip64 end record it points to. It reports false where
// archive/zip would fail.
func readZipDirEnd(r io.ReaderAt, size int64) (zipDirEnd, bool) {
	n := min(size, zipEndSearch)
	if n < zipEndLen {
		return zipDirEnd{}, false
	}
	buf := make([]byte, n)
	if m, _ := r.ReadAt(buf, size-n); int64(m) < n {
		return zipDirEnd{}, false
	}
	p := findZipEnd(buf)
	if p < 0 {
		return zipDirEnd{}, false
	}
	b := buf[p:]
	d := zipDirEnd{end: size - n + int64(p), records: uint64(le16(b[10:])),
		dirSize: uint64(le32(b[12:])), dirStart: uint64(le32(b[16:]))}
	// archive/zip's test, 0xffff for the size included.
	if d.records == 0xffff || d.dirSize == 0xffff || d.dirStart == 0xffffffff {
		if !readZip64End(r, &d) {
			return zipDirEnd{}, false
		}
	}
	const maxInt64 = 1<<63 - 1
	return d, d.dirSize <= maxInt64 && d.dirStart <= maxInt64
}

// findZipEnd returns the offset in b of the last end-record signature, or
// -1 if there is none or its comment runs past b (archive/zip refuses that).
func findZipEnd(b []byte) int {
	for i := len(b) - zipEndLen; i >= 0; i-- {
		if le32(b[i:]) == zipEndSig {
			if i+zipEndLen+int(le16(b[i+20:])) > len(b) {
				return -1
			}
			return i
		}
	}
	return -1
}

// readZip64End replaces d's fields by the zip64 end record's when a valid
// locator precedes the end record; it reports false where archive/zip fails.
func readZip64End(r io.ReaderAt, d *zipDirEnd) bool {
	var loc [zip64LocLen]byte
	if d.end < zip64LocLen {
		return true // no room for a locator: archive/zip keeps the 32-bit fields
	}
	if m, _ := r.ReadAt(loc[:], d.end-zip64LocLen); m < len(loc) {
		return false
	}
	if le32(loc[:]) != zip64LocSig || le32(loc[4:]) != 0 || le32(loc[16:]) != 1 {
		return true
	}
	p := int64(binary.LittleEndian.Uint64(loc[8:]))
	if p < 0 {
		return true // archive/zip ignores such a locator too
	}
	var rec [zip64EndLen]byte
	if m, _ := r.ReadAt(rec[:], p); m < len(rec) || le32(rec[:]) != zip64EndSig {
		return false
	}
	d.end = p
	d.records = binary.LittleEndian.Uint64(rec[32:])
	d.dirSize = binary.LittleEndian.Uint64(rec[40:])
	d.dirStart = binary.LittleEndian.Uint64(rec[48:])
	return true
}

func le16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }
func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }

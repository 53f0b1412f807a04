package journal

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"

	"github.com/visengine-go/visengine"
)

// A Dir's log, journal.log, is a sequence of records, one per line: the
// CRC-32C of the entry's JSON (the entry file format, version 1) as 8
// lowercase hex digits, a space, the JSON, "\n". A later record of a Ref
// replaces the earlier ones and any <ref>.json file. Writers append
// records, each with one write(2) before its call returns, and one fsync
// syncs every record written while the previous one ran (group commit).
// Intents and completed outcomes are not synced on their own: they ride
// the next sync (see needsSync).
//
// A kill can leave the last records cut short or, after a power cut,
// garbage: records that no call was told were durable. OpenDir drops such
// a tail (the records after the last good one, when none after it is
// good) and truncates the log there; a bad record followed by a good one is
// corruption, and OpenDir reports it.

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// compactMinRecords: below this many records the log is never compacted.
const compactMinRecords = 4096

// logWriter appends records to a Dir's log and syncs them in groups. Its
// fields are guarded by Dir.mu; the file is synced under Dir.flushMu.
type logWriter struct {
	path    string
	f       *os.File
	records int      // records in the log file
	buf     []byte   // a buffer for the record being written
	seq     uint64   // the sequence number of the last record written
	durable uint64   // … of the last record synced
	failed  error    // a write or sync failed: the log's end is unknown
	flushes uint64   // fsyncs of the log, for the benchmarks
	legacy  []string // entry files that compact removes, once superseded
	// compactAt: below this many records the log is never compacted
	// (compactMinRecords; tests lower it).
	compactAt int
}

// appendRecord appends e as a log record to buf.
func appendRecord(buf []byte, e visengine.JournalEntry) []byte {
	js := encodeEntry(e) // ends in "\n"
	crc := crc32.Checksum(js[:len(js)-1], castagnoli)
	buf = fmt.Appendf(buf, "%08x ", crc)
	return append(buf, js...)
}

// decodeRecord reads one record, without its "\n".
func decodeRecord(rec []byte) (visengine.JournalEntry, error) {
	if len(rec) < 10 || rec[8] != ' ' {
		return visengine.JournalEntry{}, errors.New("not a log record")
	}
	crc, err := strconv.ParseUint(string(rec[:8]), 16, 32)
	if err != nil || uint32(crc) != crc32.Checksum(rec[9:], castagnoli) {
		return visengine.JournalEntry{}, errors.New("checksum mismatch")
	}
	return decodeEntry(rec[9:])
}

// write appends the record of e to the log file (write(2), no sync: a
// kill of the process keeps it, a power cut may not until the next sync),
// with Dir.mu held, and returns its sequence number.
func (w *logWriter) write(e visengine.JournalEntry) (uint64, error) {
	if w.failed != nil {
		return 0, w.failed
	}
	w.buf = appendRecord(w.buf[:0], e)
	if _, err := w.f.Write(w.buf); err != nil {
		w.failed = err // cut short, perhaps: later records must not follow it
		return 0, err
	}
	w.seq++
	w.records++
	return w.seq, nil
}

// openLog replays the log in dir (if any) through apply, drops a torn
// tail, and opens the log for appending.
func openLog(dir string, apply func(visengine.JournalEntry)) (logWriter, error) {
	w := logWriter{path: filepath.Join(dir, logName), compactAt: compactMinRecords}
	if fi, err := os.Lstat(w.path); err == nil && !fi.Mode().IsRegular() {
		return w, fmt.Errorf("visengine: journal: %s is not a regular file", w.path)
	}
	data, err := os.ReadFile(w.path)
	created := errors.Is(err, os.ErrNotExist)
	if err != nil && !created {
		return w, fmt.Errorf("visengine: journal: %w", err)
	}
	good, n, err := replayLog(w.path, data, apply)
	if err != nil {
		return w, err
	}
	w.records = n
	w.f, err = os.OpenFile(w.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err == nil && good < int64(len(data)) {
		err = w.f.Truncate(good) // a torn tail: later records must not follow it
		if err == nil {
			err = w.f.Sync()
		}
	}
	if err == nil && created {
		err = syncDir(dir) // the log's own name must be durable before a record is
	}
	if err != nil {
		if w.f != nil {
			_ = w.f.Close()
		}
		return w, fmt.Errorf("visengine: journal: %s: %w", w.path, err)
	}
	return w, nil
}

// replayLog applies the good records of data, the log file at path, and
// returns how many bytes they take and how many there are.
func replayLog(path string, data []byte, apply func(visengine.JournalEntry)) (int64, int, error) {
	off, n := 0, 0
	for off < len(data) {
		nl := bytes.IndexByte(data[off:], '\n')
		if nl < 0 {
			return int64(off), n, nil // cut short: a torn tail
		}
		e, err := decodeRecord(data[off : off+nl])
		if err != nil {
			if anyGoodRecord(data[off+nl+1:]) {
				return 0, 0, &CorruptEntryError{Where: fmt.Sprintf("%s record %d (at byte %d)", path, n+1, off), Reason: err.Error()}
			}
			return int64(off), n, nil // a torn tail
		}
		apply(e)
		off, n = off+nl+1, n+1
	}
	return int64(off), n, nil
}

// anyGoodRecord reports whether data holds a whole, good record.
func anyGoodRecord(data []byte) bool {
	for len(data) > 0 {
		nl := bytes.IndexByte(data, '\n')
		if nl < 0 {
			return false
		}
		if _, err := decodeRecord(data[:nl]); err == nil {
			return true
		}
		data = data[nl+1:]
	}
	return false
}

// syncWritten syncs what is written and not yet synced, with Dir.mu and
// Dir.flushMu held (Close).
func (w *logWriter) syncWritten() error {
	if w.durable >= w.seq || w.failed != nil {
		return w.failed
	}
	if err := w.f.Sync(); err != nil {
		w.failed = err
		return err
	}
	w.durable = w.seq
	w.flushes++
	return nil
}

func (w *logWriter) close() error {
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}

func writeSync(f *os.File, b []byte) error {
	if _, err := f.Write(b); err != nil {
		return err
	}
	return f.Sync()
}

// commit returns once the record numbered seq is durable: synced by the
// sync in progress when it was written, if that began after, or by the
// next one, which this call makes unless another call made it first. So
// one fsync carries every record written while the previous one ran.
func (d *Dir) commit(seq uint64) error {
	d.flushMu.Lock()
	defer d.flushMu.Unlock()
	d.mu.Lock()
	w := &d.w
	if w.durable >= seq {
		d.mu.Unlock()
		return nil
	}
	if w.failed != nil {
		d.mu.Unlock()
		return fmt.Errorf("visengine: journal %s: %w", d.path, w.failed)
	}
	upto, f := w.seq, w.f
	d.mu.Unlock()

	err := f.Sync() // records written meanwhile may ride along: harmless

	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		w.failed = err
		return fmt.Errorf("visengine: journal %s: syncing the log: %w", d.path, err)
	}
	w.durable, w.flushes = max(w.durable, upto), w.flushes+1
	if d.compactDue() {
		d.compactLocked()
	}
	return nil
}

// compactDue reports whether the log is due for compaction, with d.mu
// held; a sync compacts it (commit), so a record that needs no sync of its
// own asks for one then.
func (d *Dir) compactDue() bool {
	return d.w.records > d.w.compactAt && d.w.records > 2*len(d.entries)
}

// compactLocked replaces the log by one record per entry (every entry
// d.mu shows), written to a temporary file, synced
// and renamed over the log: a kill leaves the old log or the new one,
// either of which reads as the same entries. Then the entry files the log
// now supersedes are removed. It runs when the log holds more than twice
// as many records as there are entries, so its cost, one write of every
// entry, is spread over at least as many records. A failure before the
// rename leaves the old log in use; after it, the Dir stops (see begin).
func (d *Dir) compactLocked() {
	w := &d.w
	var buf []byte
	for _, e := range d.entries {
		buf = appendRecord(buf, e)
	}
	tmp, err := os.CreateTemp(d.path, tempPrefix+"log-*")
	if err != nil {
		w.compactAt = 2 * w.records // not again at once
		return
	}
	err = writeSync(tmp, buf)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), w.path)
	}
	if err != nil { // the old log is still the log (a rename over an open file fails on Windows)
		_ = os.Remove(tmp.Name())
		w.compactAt = 2 * w.records // not again at once
		return
	}
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err == nil {
		err = syncDir(d.path)
	}
	if err != nil {
		if f != nil {
			_ = f.Close()
		}
		w.failed = fmt.Errorf("compacting the log: %w", err)
		return
	}
	_ = w.f.Close()
	w.f, w.records, w.durable = f, len(d.entries), w.seq
	w.flushes++
	for _, file := range w.legacy {
		_ = os.Remove(file)
	}
	w.legacy = nil
}

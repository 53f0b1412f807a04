package journal_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/journal"
)

func openDir(t *testing.T, path string) *journal.Dir {
	t.Helper()
	d, err := journal.OpenDir(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func TestDirConformance(t *testing.T) {
	runConformance(t, func(t *testing.T) (visengine.Journal, func(*testing.T) visengine.Journal) {
		d := openDir(t, t.TempDir())
		return d, func(*testing.T) visengine.Journal { return d }
	})
}

// What a Dir wrote is there after it is closed and opened again (as after a
// crash: every call returned only once its file was durable). Leases are
// the process's: a reopened journal has none.
func TestDirDurableAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal")
	d, err := journal.OpenDir(path)
	require.NoError(t, err)
	var want []visengine.JournalEntry
	for n := range 5 {
		e := create(t, d, n, "owner-a", time.Hour)
		if n%2 == 0 {
			e.DraftID, e.CloseSentAt, e.Outcome, e.Note = fmt.Sprint("draft", n), time.Now(), visengine.JournalCompleted, "closed"
			require.NoError(t, d.Update(ctx, e))
		}
		want = append(want, e)
	}
	before, err := d.List(ctx, visengine.JournalFilter{})
	require.NoError(t, err)
	require.NoError(t, d.Close())

	d = openDir(t, path)
	after, err := d.List(ctx, visengine.JournalFilter{})
	require.NoError(t, err)
	require.Len(t, after, len(want))
	for i := range after {
		assert.Empty(t, after[i].LeaseOwner, "a lease outlived its process")
		before[i].LeaseOwner, before[i].LeaseUntil = "", time.Time{}
		assert.Equal(t, before[i], after[i])
	}
	got, err := d.Claim(ctx, "owner-b", time.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	assert.Equal(t, []string{want[1].Ref, want[3].Ref}, refs(got), "the unfinished entries are claimable at once")

	if runtime.GOOS != "windows" {
		assertMode(t, path, 0o700)
		names, err := os.ReadDir(path)
		require.NoError(t, err)
		for _, n := range names {
			assert.False(t, strings.HasPrefix(n.Name(), ".tmp-"), "temporary file %s left", n.Name())
			assertMode(t, filepath.Join(path, n.Name()), 0o600)
		}
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, want, fi.Mode().Perm(), path)
}

func TestDirRefusesSecondOpenerInProcess(t *testing.T) {
	path := t.TempDir()
	d, err := journal.OpenDir(path)
	require.NoError(t, err)
	_, err = journal.OpenDir(path)
	require.ErrorIs(t, err, visengine.ErrJournalLocked)
	assert.Contains(t, err.Error(), path)
	require.NoError(t, d.Close())
	require.NoError(t, d.Close(), "Close twice")
	openDir(t, path)
}

// childDirEnv makes the test binary, run again as a child process, open
// the directory it names instead of running tests (see TestMain).
const childDirEnv = "JOURNAL_TEST_CHILD_DIR"

// holdDir is the child's work: open path, say whether it could, and hold
// it until killed.
func holdDir(path string) {
	d, err := journal.OpenDir(path)
	switch {
	case errors.Is(err, visengine.ErrJournalLocked):
		fmt.Println("RESULT locked")
		return
	case err != nil:
		fmt.Println("RESULT error", err)
		return
	}
	fmt.Println("RESULT opened")
	time.Sleep(time.Minute) // the parent kills it long before
	_ = d.Close()
}

// startChild runs holdDir on path in a child process and returns its
// answer, with the process still running (holding the lock if it got it).
func startChild(t *testing.T, path string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childDirEnv+"="+path, "GORACE=atexit_sleep_ms=0")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if result, ok := strings.CutPrefix(sc.Text(), "RESULT "); ok {
			return result, cmd
		}
	}
	t.Fatalf("the child process said nothing: %v", sc.Err())
	return "", nil
}

// Another process cannot open a directory that this one has open; once it
// is closed, or once a process holding it dies, it can.
func TestDirRefusesSecondProcess(t *testing.T) {
	path := t.TempDir()
	d, err := journal.OpenDir(path)
	require.NoError(t, err)
	result, _ := startChild(t, path)
	require.Equal(t, "locked", result)

	require.NoError(t, d.Close())
	result, child := startChild(t, path)
	require.Equal(t, "opened", result)
	_, err = journal.OpenDir(path)
	require.ErrorIs(t, err, visengine.ErrJournalLocked, "the child holds it now")

	require.NoError(t, child.Process.Kill()) // a crash: no Close
	_ = child.Wait()
	openDir(t, path)
}

// A damaged entry file stops OpenDir with an error that names the file and
// says what is wrong, without quoting it.
func TestDirReportsCorruptEntries(t *testing.T) {
	const canary = "RSSMRA85M01H501Q"
	ref := "0123456789abcdef0123456789abcdef"
	good := `{"v":1,"ref":"` + ref + `","hash_visura":"` + hashA2 + `","digest":"` + strings.Repeat("ab", 32) +
		`","created_at":"2025-03-01T09:00:00Z","updated_at":"2025-03-01T09:00:01Z"}`
	cases := []struct {
		name, file, content, reason string
	}{
		{"empty", ref + ".json", "", "not JSON"},
		{"garbage", ref + ".json", canary + "\x00\xff", "not JSON (at byte 1)"},
		{"cut short", ref + ".json", good[:40], "not JSON"},
		{"an array", ref + ".json", `["` + canary + `"]`, "not a JSON object"},
		{"a number as ref", ref + ".json", strings.Replace(good, `"ref":"`+ref+`"`, `"ref":12345678`, 1), "field ref has the wrong type"},
		{"version 2", ref + ".json", strings.Replace(good, `"v":1`, `"v":2`, 1), "format version 2 is not 1"},
		{"no version", ref + ".json", strings.Replace(good, `"v":1,`, ``, 1), "format version 0 is not 1"},
		{"bad time", ref + ".json", strings.Replace(good, `2025-03-01T09:00:00Z`, canary, 1), "created_at is not an RFC 3339 time"},
		{"values as digest", ref + ".json", strings.Replace(good, strings.Repeat("ab", 32), canary, 1), "journal entry Digest is not 64 lowercase hex digits"},
		{"bad outcome", ref + ".json", strings.Replace(good, `"v":1`, `"v":1,"outcome":"`+canary+`"`, 1), "journal entry Outcome is not a known outcome"},
		{"renamed", "fedcba9876543210fedcba9876543210.json", good, "file name is not its ref"},
		{"not a ref", "notes.json", good, "file name is not its ref"},
		{"huge", ref + ".json", `{"v":1,"note":"` + strings.Repeat(canary, 5000) + `"}`, "larger than 64 KiB"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := t.TempDir()
			file := filepath.Join(path, tc.file)
			require.NoError(t, os.WriteFile(file, []byte(tc.content), 0o600))
			_, err := journal.OpenDir(path)
			var ce *journal.CorruptEntryError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, file, ce.Where)
			assert.Contains(t, ce.Reason, tc.reason)
			assert.Contains(t, err.Error(), file)
			assert.NotContains(t, err.Error(), canary)
			assert.NotContains(t, fmt.Sprintf("%+v %#v", err, err), canary)

			require.NoError(t, os.Remove(file))
			openDir(t, path) // the failed open released the lock
		})
	}
}

// OpenDir removes what an interrupted write left and ignores files that
// are not entries.
func TestDirCleansTemporaryFiles(t *testing.T) {
	path := t.TempDir()
	tmp := filepath.Join(path, ".tmp-0123456789abcdef0123456789abcdef-123")
	require.NoError(t, os.WriteFile(tmp, []byte(`{"v":1,"ref":`), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(path, "README"), []byte("hands off"), 0o600))
	d := openDir(t, path)
	_, err := os.Stat(tmp)
	assert.ErrorIs(t, err, os.ErrNotExist)
	all, err := d.List(ctx, visengine.JournalFilter{})
	require.NoError(t, err)
	assert.Empty(t, all)
}

func TestDirAfterClose(t *testing.T) {
	d, err := journal.OpenDir(t.TempDir())
	require.NoError(t, err)
	e := create(t, d, 1, "o", time.Hour)
	require.NoError(t, d.Close())
	_, err = d.Get(ctx, e.Ref)
	require.ErrorIs(t, err, os.ErrClosed)
	require.ErrorIs(t, d.Create(ctx, newEntry(t, 2, "o", time.Hour)), os.ErrClosed)
	_, err = d.Claim(ctx, "o", time.Now().Add(time.Hour), 1)
	require.ErrorIs(t, err, os.ErrClosed)
}

func TestOpenDirArguments(t *testing.T) {
	_, err := journal.OpenDir("")
	require.ErrorIs(t, err, visengine.ErrInvalidArgument)
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err = journal.OpenDir(file)
	require.Error(t, err, "a file is not a directory")
}

package journal_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/journal"
)

// Writes that arrive while a flush is held up are carried by the next
// flush, one for all of them, and each call returns once it is durable.
// (The entries name a draft: an intent alone would not wait for a sync.)
func TestDirGroupCommit(t *testing.T) {
	path := t.TempDir()
	d, err := journal.OpenDir(path)
	require.NoError(t, err)
	const writers = 16
	release := journal.HoldFlush(d)
	var wg sync.WaitGroup
	errs := make([]error, writers)
	refs := make([]string, writers)
	for i := range writers {
		e := newEntry(t, i, "owner", time.Hour)
		e.DraftID = fmt.Sprint("draft", i)
		refs[i] = e.Ref
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = d.Create(ctx, e) }()
	}
	require.Eventually(t, func() bool { return journal.Queued(d) == writers }, 5*time.Second, time.Millisecond)
	flushes := journal.Flushes(d)
	release()
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, flushes+1, journal.Flushes(d), "one flush for the writes queued meanwhile")

	require.NoError(t, d.Close())
	d = openDir(t, path)
	for _, ref := range refs {
		_, err := d.Get(ctx, ref)
		require.NoError(t, err)
	}
}

// fillLog writes n entries, each created then updated once, and closes d.
func fillLog(t *testing.T, path string, n int) []visengine.JournalEntry {
	d, err := journal.OpenDir(path)
	require.NoError(t, err)
	var out []visengine.JournalEntry
	for i := range n {
		e := create(t, d, i, "owner", time.Hour)
		e.DraftID, e.CloseSentAt = fmt.Sprint("draft", i), time.Now()
		require.NoError(t, d.Update(ctx, e))
		got, err := d.Get(ctx, e.Ref)
		require.NoError(t, err)
		got.LeaseOwner, got.LeaseUntil = "", time.Time{}
		out = append(out, got)
	}
	require.NoError(t, d.Close())
	return out
}

func listAll(t *testing.T, d visengine.Journal) []visengine.JournalEntry {
	t.Helper()
	all, err := d.List(ctx, visengine.JournalFilter{})
	require.NoError(t, err)
	return all
}

// A kill (or a power cut) can leave the log's last records cut short or
// garbled: no call was told they were durable. OpenDir drops them, and
// later records follow the good ones.
func TestDirDropsATornTail(t *testing.T) {
	for name, tail := range map[string]string{
		"cut short":  `01234567 {"v":1,"ref":"`,
		"zeros":      strings.Repeat("\x00", 300),
		"bad sum":    "00000000 {}\n",
		"two broken": "00000000 {}\nffffffff {\"v\":1}\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := t.TempDir()
			want := fillLog(t, path, 3)
			log := filepath.Join(path, journal.LogName)
			good, err := os.ReadFile(log)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(log, append(bytes.Clone(good), tail...), 0o600))

			d, err := journal.OpenDir(path)
			require.NoError(t, err)
			assert.Equal(t, want, listAll(t, d))
			got, err := os.ReadFile(log)
			require.NoError(t, err)
			assert.Equal(t, good, got, "the torn tail is cut off")
			e := create(t, d, 9, "owner", time.Hour)
			require.NoError(t, d.Close())
			d = openDir(t, path)
			assert.Len(t, listAll(t, d), 4)
			_, err = d.Get(ctx, e.Ref)
			require.NoError(t, err)
		})
	}
}

// A bad record followed by good ones is not a torn tail but damage: OpenDir
// reports it, naming the log and the record, without quoting it.
func TestDirReportsACorruptRecord(t *testing.T) {
	const canary = "RSSMRA85M01H501Q"
	path := t.TempDir()
	fillLog(t, path, 3)
	log := filepath.Join(path, journal.LogName)
	data, err := os.ReadFile(log)
	require.NoError(t, err)
	lines := bytes.SplitAfter(data, []byte("\n"))
	lines[2] = bytes.Replace(lines[2], []byte(`"v":1`), []byte(`"v":1,"x":"`+canary+`"`), 1) // its sum no longer holds
	require.NoError(t, os.WriteFile(log, bytes.Join(lines, nil), 0o600))

	_, err = journal.OpenDir(path)
	var ce *journal.CorruptEntryError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, ce.Where, log+" record 3")
	assert.Equal(t, "checksum mismatch", ce.Reason)
	assert.NotContains(t, fmt.Sprintf("%v %+v", err, err), canary)
}

// Entry files written before the log are still read; the log's records
// of the same Ref replace them, and compaction folds them into the log.
func TestDirReadsEntryFilesAndCompacts(t *testing.T) {
	path := t.TempDir()
	ref := "0123456789abcdef0123456789abcdef"
	file := `{"v":1,"ref":"` + ref + `","hash_visura":"` + hashA2 + `","digest":"` + strings.Repeat("ab", 32) +
		`","created_at":"2025-03-01T09:00:00Z","updated_at":"2025-03-01T09:00:01Z"}` + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(path, ref+".json"), []byte(file), 0o600))

	d := openDir(t, path)
	old, err := d.Get(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, base.Add(-123456*time.Microsecond), old.CreatedAt)
	claimed, err := d.ClaimRef(ctx, ref, "owner", time.Now().Add(time.Hour))
	require.NoError(t, err)
	claimed.Note = "updated"
	require.NoError(t, d.Update(ctx, claimed))
	require.NoError(t, d.Close())

	d, err = journal.OpenDir(path)
	require.NoError(t, err)
	got, err := d.Get(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, "updated", got.Note, "the log's record replaces the file")

	journal.CompactAt(d, 10)
	var want []visengine.JournalEntry
	for i := range 8 {
		e := create(t, d, i, "owner", time.Hour)
		for range 3 {
			e.Note += "x"
			require.NoError(t, d.Update(ctx, e))
		}
	}
	want = listAll(t, d)
	require.NoError(t, d.Close())
	_, err = os.Stat(filepath.Join(path, ref+".json"))
	assert.ErrorIs(t, err, os.ErrNotExist, "the entry file is folded into the log")
	data, err := os.ReadFile(filepath.Join(path, journal.LogName))
	require.NoError(t, err)
	assert.Less(t, bytes.Count(data, []byte("\n")), 2*9+1, "compacted: 33 records written for 9 entries")

	d = openDir(t, path)
	got2 := listAll(t, d)
	for i := range want {
		want[i].LeaseOwner, want[i].LeaseUntil = "", time.Time{}
	}
	assert.Equal(t, want, got2)
}

// hammerEnv makes the test binary, run again as a child process, write to
// the Dir it names until killed (see TestMain).
const hammerEnv = "JOURNAL_TEST_HAMMER_DIR"

// hammerDir is the child's work: eight writers create entries and update
// each once, and print "ACK <ref> <note>" when a call returned, so durable.
func hammerDir(path string) {
	d, err := journal.OpenDir(path)
	if err != nil {
		fmt.Println("ERROR", err)
		return
	}
	journal.CompactAt(d, 64) // compactions too are killed midway
	var mu sync.Mutex
	ack := func(ref, note string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Println("ACK", ref, note)
	}
	for w := range 8 {
		go func() {
			for i := 0; ; i++ {
				e := visengine.JournalEntry{Ref: fmt.Sprintf("%08x%08x%016x", os.Getpid(), w, i), HashVisura: hashA2,
					Digest: strings.Repeat("ab", 32), CreatedAt: time.Now(), LeaseOwner: "h", LeaseUntil: time.Now().Add(time.Hour)}
				if err := d.Create(ctx, e); err != nil {
					fmt.Println("ERROR", err)
					return
				}
				ack(e.Ref, "-")
				e.Note = "updated"
				if err := d.Update(ctx, e); err != nil {
					fmt.Println("ERROR", err)
					return
				}
				ack(e.Ref, e.Note)
			}
		}()
	}
	time.Sleep(time.Minute) // the parent kills it long before
}

// A process writing with eight writers at once is killed (SIGKILL) in the
// middle of its flushes and compactions, three times over the same
// directory: each time the journal opens, and holds every write a call
// returned for.
func TestDirSurvivesKills(t *testing.T) {
	path := t.TempDir()
	acked := map[string]string{}
	for range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), hammerEnv+"="+path, "GORACE=atexit_sleep_ms=0")
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		timer := time.AfterFunc(20*time.Second, func() { _ = cmd.Process.Kill() })
		sc := bufio.NewScanner(out)
		n := 0
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			require.Equal(t, "ACK", f[0], sc.Text())
			if acked[f[1]] != "updated" {
				acked[f[1]] = f[2]
			}
			if n++; n == 300 {
				_ = cmd.Process.Kill()
			}
		}
		_ = cmd.Wait()
		timer.Stop()
		require.GreaterOrEqual(t, n, 300)

		d, err := journal.OpenDir(path)
		require.NoError(t, err, "the journal opens after a kill")
		for ref, note := range acked {
			e, err := d.Get(ctx, ref)
			require.NoError(t, err, "acknowledged, so durable")
			if note == "updated" {
				require.Equal(t, note, e.Note)
			}
		}
		require.NoError(t, d.Close())
	}
}

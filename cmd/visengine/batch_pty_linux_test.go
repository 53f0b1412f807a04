package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine/visenginetest"
)

// openPty opens a pseudo-terminal: the controller, to read what the
// program wrote, and the terminal the program writes to.
func openPty(t *testing.T) (ctrl, tty *os.File) {
	t.Helper()
	ctrl, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	require.NoError(t, err)
	t.Cleanup(func() { ctrl.Close() })
	var unlock int32
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, ctrl.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock)))
	require.Zero(t, errno, "unlocking the pty")
	var n uint32
	_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, ctrl.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n)))
	require.Zero(t, errno, "naming the pty")
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	return ctrl, tty
}

// TestBatchProgressOnTerminal runs a batch whose standard error is a real
// terminal: the progress bar is drawn there (and only there: standard
// output, a pipe, gets the results alone).
func TestBatchProgressOnTerminal(t *testing.T) {
	srv := visenginetest.NewServer(visenginetest.WithToken("batch-tty-token"))
	defer srv.Close()
	t.Setenv(envURL, srv.URL)
	t.Setenv(envToken, srv.Token)
	t.Setenv(envJournal, filepath.Join(t.TempDir(), "journal"))
	t.Setenv(envNoColor, "1")
	dir := t.TempDir()
	for i := range 3 {
		applicant := fmt.Sprintf(`{"Nome": "Nome%d", "Cognome": "Rossi", "Email": "p%d@example.com", "CELLULARE": "333000000%d",
			"CODICE FISCALE": "RSSMRA85M01H501Q", "COPIA DOCUMENTO D%sIDENTITÀ FRONTE RETRO": "@doc.pdf",
			"COPIA CODICE FISCALE FRONTE RETRO": "@doc.pdf"}`, i, i, i, "`")
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("p%d.json", i)), []byte(applicant), 0o600))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "doc.pdf"), []byte("%PDF-1.4 a scan"), 0o600))

	ctrl, tty := openPty(t)
	screen := make(chan string)
	go func() {
		b, _ := io.ReadAll(ctrl) // ends with EIO once the terminal is closed
		screen <- string(b)
	}()
	var out bytes.Buffer
	err := run(context.Background(), []string{"submit", "2631ec9b62135de4186f509fea7d954b", "--batch", dir, "--yes", "--concurrency", "1"},
		&out, tty, strings.NewReader(""))
	require.NoError(t, tty.Close())
	require.NoError(t, err)
	got := strings.ReplaceAll(<-screen, "\r\n", "\n") // the terminal's own newline translation

	assert.Contains(t, got, renderBar(0, 3)+" 0 paid, 0 already paid\r\x1b[Kp0: paid: richiesta ")
	assert.Contains(t, got, renderBar(2, 3)+" 2 paid, 0 already paid\r\x1b[Kp2: paid: richiesta ")
	assert.Contains(t, got, "batch of 3: 3 paid now (€60.00)\n")
	assert.NotContains(t, got, renderBar(3, 3), "the bar goes once all are done")
	assert.NotContains(t, out.String(), "\r")
	assert.Equal(t, 3, strings.Count(out.String(), "\n"))
}

// Package maintest lets a command's test binary play the command itself,
// so that tests can check what a real run prints and its exit status (-h
// exits 0, a bad flag does not) without building the program first.
package maintest

import (
	"os"
	"os/exec"
	"testing"
)

// runMain marks a child started by Command.
const runMain = "VISENGINE_RUN_MAIN"

// Main is the body of TestMain: in a child started by Command it runs
// main and exits 0 (main exits otherwise on its own), else it runs the
// tests.
func Main(m *testing.M, main func()) {
	if os.Getenv(runMain) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Command returns a command that runs the test binary as the program, with
// args. Under -race a process sleeps a second at exit to flush reports;
// the child skips it, since its exit status is all the test reads.
func Command(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMain+"=1", "GORACE=atexit_sleep_ms=0")
	return cmd
}

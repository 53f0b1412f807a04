//go:build linux

package pgtest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A test binary killed before Main's cleanup leaves no server behind: the
// watchdog stops it and removes its directory.
func TestKilledTestBinaryLeavesNoCluster(t *testing.T) {
	if os.Getenv("PGTEST_CHILD") == "kill" {
		Start(t)
		fmt.Println("DIR", shared.dir)
		time.Sleep(time.Minute) // killed by the parent long before
		return
	}
	Start(t) // skips or fails like any other test when PostgreSQL is missing
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledTestBinaryLeavesNoCluster$", "-test.v")
	cmd.Env = append(os.Environ(), "PGTEST_CHILD=kill", "GORACE=atexit_sleep_ms=0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var dir string
	sc := bufio.NewScanner(out)
	for dir == "" && sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "DIR "); ok {
			dir = d
		}
	}
	if dir == "" {
		_ = cmd.Process.Kill()
		t.Fatal("the child started no cluster")
	}
	pid, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := os.Stat(dir)
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still there 20 s after its test binary died", dir)
		}
		time.Sleep(100 * time.Millisecond)
	}
	postmaster, _ := strconv.Atoi(strings.SplitN(string(pid), "\n", 2)[0])
	for running(postmaster) {
		if time.Now().After(deadline) {
			t.Fatalf("postmaster %d still running", postmaster)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// running reports whether process pid exists and is not a zombie (the
// postmaster's parent is init, which may take a while to reap it).
func running(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(stat), ") ")
	return !strings.HasPrefix(rest, "Z")
}

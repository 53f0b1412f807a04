//go:build unix

package pgtest

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// watchdogScript waits for process $1 to end, then runs the stop command
// (the remaining arguments) and removes directory $2.
const watchdogScript = `p=$1; d=$2; shift 2
while kill -0 "$p" 2>/dev/null; do sleep 1; done
"$@" >/dev/null 2>&1; rm -rf "$d"`

// startWatchdog starts a shell that stops the cluster and removes dir
// once this process is gone: a test binary killed by go test's -timeout
// or by a signal never reaches Main's cleanup, and would leave a server
// running. The shell has its own process group, so that a ^C to the tests
// does not kill it too, and no file of ours open, so that go test does not
// wait for it. The returned function ends it. Best effort: on failure to
// start, there is no watchdog.
func startWatchdog(dir string, stop *exec.Cmd) func() {
	args := append([]string{"-c", watchdogScript, "pgtest-watchdog", strconv.Itoa(os.Getpid()), dir}, stop.Args...)
	cmd := exec.Command("/bin/sh", args...)
	cmd.Dir, cmd.Env = "/", stop.Env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil
	}
	return func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}
}

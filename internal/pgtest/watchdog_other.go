//go:build !unix

package pgtest

import "os/exec"

// startWatchdog has no portable way here to outlive this process: a test
// binary killed before Main's cleanup leaves its cluster running.
func startWatchdog(string, *exec.Cmd) func() { return nil }

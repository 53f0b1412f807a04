package journal_test

import (
	"os"
	"testing"

	"github.com/visengine-go/visengine/internal/pgtest"
)

// TestMain stops the PostgreSQL cluster that the tests may have started.
// Run as a child process by TestDirRefusesSecondProcess, the binary only
// opens a directory journal; by the crash matrix, it submits or recovers;
// by TestDirSurvivesKills, it writes until killed.
func TestMain(m *testing.M) {
	if path := os.Getenv(childDirEnv); path != "" {
		holdDir(path)
		return
	}
	if path := os.Getenv(hammerEnv); path != "" {
		hammerDir(path) // writes until killed (dirlog_test.go)
		return
	}
	if path := os.Getenv(lazyEnv); path != "" {
		lazyChild(path) // writes, then waits to be killed (durability_test.go)
		return
	}
	if mode := os.Getenv(crashModeEnv); mode != "" {
		os.Exit(crashChild(mode)) // a crash-matrix child (crash_test.go)
	}
	pgtest.Main(m)
}

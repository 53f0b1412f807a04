package journal_test

import (
	"os"
	"testing"

	"github.com/visengine-go/visengine/internal/pgtest"
)

// TestMain stops the PostgreSQL cluster that the tests may have started.
// Run as a child process by TestDirRefusesSecondProcess, the binary only
// opens a directory journal.
func TestMain(m *testing.M) {
	if path := os.Getenv(childDirEnv); path != "" {
		holdDir(path)
		return
	}
	pgtest.Main(m)
}

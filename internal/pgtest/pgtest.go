// Package pgtest starts a throwaway PostgreSQL cluster for tests: initdb
// and pg_ctl on a temporary directory, listening on 127.0.0.1 and a free
// port, with trust authentication. One cluster serves a whole test binary;
// each Start gives the calling test a fresh database in it.
//
// A package that uses it stops the cluster from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// When PostgreSQL is not installed, Start skips the test with a message
// saying how to run it, unless VISENGINE_REQUIRE_POSTGRES=1, when it fails
// it: CI sets that, so that a missing server cannot pass for green.
//
// The cluster syncs nothing (fsync, synchronous_commit and
// full_page_writes off): a crash of the machine may lose or corrupt it,
// which a throwaway cluster can afford, and each commit costs no disk
// flush. A benchmark that weighs a PostgreSQL journal against one that
// syncs its files measures a server that syncs its WAL as a production one
// does with VISENGINE_PGTEST_DURABLE=1 (see Durable).
//
// The package imports no database driver: Start returns a URL for the
// test's driver (pgx's stdlib in this module's tests).
package pgtest

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
)

// RequireEnv names the variable that turns a missing PostgreSQL into a
// test failure when set to "1".
const RequireEnv = "VISENGINE_REQUIRE_POSTGRES"

// DurableEnv names the variable that, set to "1", starts the cluster with
// PostgreSQL's default durability: every synchronous commit waits for its
// WAL to be flushed to disk.
const DurableEnv = "VISENGINE_PGTEST_DURABLE"

// Durable reports whether the cluster syncs its WAL as a production server
// does (DurableEnv), so that a benchmark can say which it measured.
func Durable() bool { return os.Getenv(DurableEnv) == "1" }

var (
	mainUsed atomic.Bool
	once     sync.Once
	shared   *cluster
	startErr error
	dbCount  atomic.Int64
)

// Main runs m's tests and then stops the cluster, if one was started, and
// removes its directory. Call it from TestMain.
func Main(m *testing.M) {
	mainUsed.Store(true)
	defer stopShared()
	m.Run() // since Go 1.15 the test wrapper exits with m.Run's code
}

func stopShared() {
	if shared != nil {
		shared.stop()
	}
}

// Start returns the URL of a new, empty database on the shared cluster,
// starting the cluster on first use:
// postgres://postgres@127.0.0.1:PORT/NAME?sslmode=disable. The database
// is removed with the cluster when the tests end.
func Start(t testing.TB) string {
	t.Helper()
	if !mainUsed.Load() {
		t.Fatal("pgtest: call pgtest.Main(m) from TestMain, so that the cluster is stopped when the tests end")
	}
	once.Do(func() { shared, startErr = startCluster() })
	if startErr != nil {
		var missing *missingError
		if errors.As(startErr, &missing) && os.Getenv(RequireEnv) != "1" {
			t.Skipf("%v; to run this test: apt-get install postgresql, then %s=1 go test ./journal/...", startErr, RequireEnv)
		}
		if errors.As(startErr, &missing) {
			t.Fatalf("%v, and %s=1 requires it: apt-get install postgresql", startErr, RequireEnv)
		}
		t.Fatalf("pgtest: %v", startErr)
	}
	name := fmt.Sprintf("test%d", dbCount.Add(1))
	if err := shared.createDB(name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return shared.url(name)
}

// missingError says that PostgreSQL's programs were not found.
type missingError struct{ what string }

func (e *missingError) Error() string {
	return "pgtest: PostgreSQL is not installed (" + e.what + ")"
}

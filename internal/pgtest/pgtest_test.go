package pgtest

import (
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

// Each Start gives a new database on one shared cluster that answers on
// loopback. (The journal's tests exercise it through a driver.)
func TestStartGivesFreshDatabasesOnOneCluster(t *testing.T) {
	a, b := Start(t), Start(t)
	ua, err := url.Parse(a)
	if err != nil {
		t.Fatal(err)
	}
	ub, err := url.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if ua.Host != ub.Host || ua.Path == ub.Path {
		t.Fatalf("want one cluster and two databases, got %s and %s", a, b)
	}
	if h := ua.Hostname(); h != "127.0.0.1" {
		t.Fatalf("host %s, want 127.0.0.1", h)
	}
	conn, err := net.Dial("tcp", ua.Host)
	if err != nil {
		t.Fatalf("cluster not listening: %v", err)
	}
	_ = conn.Close()
	if _, err := os.Stat(filepath.Join(shared.dir, "data", "PG_VERSION")); err != nil {
		t.Fatalf("no cluster in %s: %v", shared.dir, err)
	}
}

// Without PostgreSQL's programs, Start reports a missingError, which Start
// turns into a skip or, under VISENGINE_REQUIRE_POSTGRES=1, a failure.
func TestFindBinsReportsMissing(t *testing.T) {
	if _, err := os.Stat("/usr/lib/postgresql"); err == nil {
		t.Setenv("PATH", t.TempDir())
		if _, err := findBins(); err != nil {
			t.Fatalf("with /usr/lib/postgresql present: %v", err)
		}
		return
	}
	t.Setenv("PATH", t.TempDir())
	_, err := findBins()
	if _, ok := err.(*missingError); !ok {
		t.Fatalf("got %v, want a missingError", err)
	}
}

// The skip-or-fail decision, in a child process that has no PostgreSQL on
// its PATH and a /usr/lib/postgresql it cannot use: there Start must fail
// when required and skip otherwise.
func TestStartSkipsOrFailsWithoutPostgres(t *testing.T) {
	if os.Getenv("PGTEST_CHILD") == "1" {
		once.Do(func() { startErr = &missingError{"initdb not found (simulated)"} })
		Start(t)
		t.Fatal("Start returned without PostgreSQL")
	}
	for _, tc := range []struct {
		require  string
		wantFail bool
	}{{"", false}, {"0", false}, {"1", true}} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestStartSkipsOrFailsWithoutPostgres$", "-test.v")
		cmd.Env = append(os.Environ(), "PGTEST_CHILD=1", RequireEnv+"="+tc.require, "GORACE=atexit_sleep_ms=0")
		out, err := cmd.CombinedOutput()
		failed := err != nil
		if failed != tc.wantFail {
			t.Fatalf("%s=%q: failed=%v, want %v\n%s", RequireEnv, tc.require, failed, tc.wantFail, out)
		}
		if !tc.wantFail && !contains(out, "--- SKIP") {
			t.Fatalf("%s=%q: not skipped:\n%s", RequireEnv, tc.require, out)
		}
		if !contains(out, "apt-get install postgresql") {
			t.Fatalf("%s=%q: the message does not say how to install it:\n%s", RequireEnv, tc.require, out)
		}
	}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }

// The cluster syncs its WAL only under VISENGINE_PGTEST_DURABLE=1: the
// server's own record of its command line (postmaster.opts) says which,
// for this binary's cluster and for one a child starts with it set.
func TestDurableEnvTurnsTheSyncsBackOn(t *testing.T) {
	Start(t)
	opts, err := os.ReadFile(filepath.Join(shared.data, "postmaster.opts"))
	if err != nil {
		t.Fatal(err)
	}
	if noSync := strings.Contains(string(opts), "fsync=off"); noSync == Durable() {
		t.Fatalf("%s=%q, but the server runs with %s", DurableEnv, os.Getenv(DurableEnv), opts)
	}
	if os.Getenv("PGTEST_DURABLE_CHILD") == "1" || Durable() {
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDurableEnvTurnsTheSyncsBackOn$", "-test.v")
	cmd.Env = append(os.Environ(), "PGTEST_DURABLE_CHILD=1", DurableEnv+"=1", RequireEnv+"=1", "GORACE=atexit_sleep_ms=0")
	if out, err := cmd.CombinedOutput(); err != nil || !contains(out, "--- PASS") {
		t.Fatalf("durable child: %v\n%s", err, out)
	}
}

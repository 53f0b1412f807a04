package pgtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// cluster is a running throwaway PostgreSQL.
type cluster struct {
	bins     bins
	runuser  string // runuser's path when the cluster runs as "postgres"
	dir      string // the temporary directory: data/, the socket, the log
	data     string
	port     int
	watchdog func() // stops the watchdog; nil if none
}

type bins struct{ initdb, pgCtl, createdb string }

// findBins looks in /usr/lib/postgresql/*/bin (newest major first, as
// Debian and Ubuntu install it), then in PATH.
func findBins() (bins, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return majorOf(b) - majorOf(a) })
	for _, dir := range dirs {
		b := bins{filepath.Join(dir, "initdb"), filepath.Join(dir, "pg_ctl"), filepath.Join(dir, "createdb")}
		if executable(b.initdb) && executable(b.pgCtl) && executable(b.createdb) {
			return b, nil
		}
	}
	var b bins
	for _, p := range []struct {
		name string
		dst  *string
	}{{"initdb", &b.initdb}, {"pg_ctl", &b.pgCtl}, {"createdb", &b.createdb}} {
		path, err := exec.LookPath(p.name)
		if err != nil {
			return bins{}, &missingError{p.name + " not found under /usr/lib/postgresql/*/bin nor in PATH"}
		}
		*p.dst = path
	}
	return b, nil
}

func majorOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// startCluster creates and starts a cluster. initdb refuses to run as
// root, so as root the cluster runs as the "postgres" user, through
// runuser, in a directory given to that user.
func startCluster() (*cluster, error) {
	b, err := findBins()
	if err != nil {
		return nil, err
	}
	c := &cluster{bins: b}
	owner, err := c.pickUser()
	if err != nil {
		return nil, err
	}
	if err := c.makeDir(owner); err != nil {
		return nil, err
	}
	if err := c.initdb(); err != nil {
		_ = os.RemoveAll(c.dir)
		return nil, err
	}
	if err := c.startServer(); err != nil {
		_ = os.RemoveAll(c.dir)
		return nil, err
	}
	c.watchdog = startWatchdog(c.dir, c.stopCommand())
	return c, nil
}

// pickUser returns the user the cluster runs as: nil for the current one,
// "postgres" when the current one is root.
func (c *cluster) pickUser() (*user.User, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, the cluster needs the user postgres (the postgresql package creates it): %w", err)
	}
	if c.runuser, err = exec.LookPath("runuser"); err != nil {
		return nil, fmt.Errorf("running as root, the cluster runs as postgres through runuser (util-linux): %w", err)
	}
	return u, nil
}

// makeDir creates the cluster's directory where its owner can reach it.
func (c *cluster) makeDir(owner *user.User) error {
	parent, err := tempParent(owner != nil)
	if err != nil {
		return err
	}
	if c.dir, err = os.MkdirTemp(parent, "visengine-pgtest-"); err != nil {
		return err
	}
	c.data = filepath.Join(c.dir, "data")
	if owner == nil {
		return nil
	}
	uid, _ := strconv.Atoi(owner.Uid)
	gid, _ := strconv.Atoi(owner.Gid)
	if err := os.Chown(c.dir, uid, gid); err != nil {
		_ = os.RemoveAll(c.dir)
		return err
	}
	return nil
}

// plainPath is what a directory may look like: it goes into pg_ctl's -o
// string (read by a shell) and into a socket path, which must stay short.
var plainPath = regexp.MustCompile(`^[A-Za-z0-9/._-]{1,60}$`)

// tempParent picks os.TempDir(), or /tmp, if its path is plain and, when
// another user must reach it, every directory on the way lets others in.
func tempParent(forOthers bool) (string, error) {
	for _, dir := range []string{os.TempDir(), "/tmp"} {
		if plainPath.MatchString(dir) && (!forOthers || traversable(dir)) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("neither %s nor /tmp is a short plain path that the postgres user can reach", os.TempDir())
}

func traversable(dir string) bool {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		if d == filepath.Dir(d) {
			return true
		}
	}
}

// command runs a server program as the cluster's user, in its directory,
// without the caller's PG* variables (which would point elsewhere).
func (c *cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	if c.runuser != "" {
		cmd = exec.Command(c.runuser, append([]string{"-u", "postgres", "--", name}, args...)...)
	}
	cmd.Dir, cmd.Env = c.dir, cleanEnv()
	return cmd
}

// cleanEnv is the environment without PG* variables, which would point
// PostgreSQL's programs at another server or directory.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	return env
}

func run(cmd *exec.Cmd) error {
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

func (c *cluster) initdb() error {
	// --no-sync: the cluster is thrown away; trust: loopback and the
	// socket in our directory only.
	return run(c.command(c.bins.initdb, "-D", c.data, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync"))
}

// startServer starts the server on a free port, trying a few in case
// another process takes the port between our probe and the server's bind.
func (c *cluster) startServer() error {
	var err error
	for range 3 {
		if c.port, err = freePort(); err != nil {
			return err
		}
		opts := serverOpts(c.port, c.dir, Durable())
		err = run(c.command(c.bins.pgCtl, "-D", c.data, "-l", filepath.Join(c.dir, "server.log"),
			"-w", "-t", "60", "-o", opts, "start"))
		if err == nil {
			return nil
		}
	}
	log, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
	return fmt.Errorf("%w\nserver log:\n%s", err, tail(log, 2000))
}

// serverOpts are the server's options (pg_ctl -o): loopback on port, the
// socket in dir, and unless durable none of the syncs that make a commit
// survive an OS crash, which a throwaway cluster does not need and which
// would slow every test.
func serverOpts(port int, dir string, durable bool) string {
	opts := fmt.Sprintf("-h 127.0.0.1 -p %d -k %s -c max_connections=200", port, dir)
	if !durable {
		opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	}
	return opts
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// createDB creates a database through the socket in the cluster's
// directory.
func (c *cluster) createDB(name string) error {
	cmd := exec.Command(c.bins.createdb, "-h", c.dir, "-p", strconv.Itoa(c.port), "-U", "postgres", name)
	cmd.Env = cleanEnv()
	return run(cmd)
}

func (c *cluster) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// stopCommand stops the server at once: its data is thrown away.
func (c *cluster) stopCommand() *exec.Cmd {
	return c.command(c.bins.pgCtl, "-D", c.data, "-m", "immediate", "-w", "stop")
}

// stop stops the server and removes the directory.
func (c *cluster) stop() {
	if c.watchdog != nil {
		c.watchdog()
	}
	err := run(c.stopCommand())
	if rerr := os.RemoveAll(c.dir); err == nil {
		err = rerr
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(os.Stderr, "pgtest: stopping the cluster: %v\n", err)
	}
}

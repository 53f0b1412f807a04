package journal_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/internal/pgtest"
	"github.com/visengine-go/visengine/journal"
	"github.com/visengine-go/visengine/visenginetest"
)

// The crash matrix: the test binary runs again as a child process that
// submits one richiesta through a journal, against a fake served by the
// parent, and is killed (SIGKILL) at one step boundary. A new child process
// then recovers from the same journal. Over the whole matrix each
// submission is charged at most once and ends completed or abandoned.

// Variables that make the test binary a crash-matrix child (see TestMain).
const (
	crashModeEnv    = "JOURNAL_TEST_CRASH" // "submit" or "recover"
	crashURLEnv     = "JOURNAL_TEST_CRASH_URL"
	crashTokenEnv   = "JOURNAL_TEST_CRASH_TOKEN"
	crashJournalEnv = "JOURNAL_TEST_CRASH_JOURNAL" // "dir:<path>" or "pg:<url>"
	crashKillEnv    = "JOURNAL_TEST_CRASH_KILL"    // the child's own kill point, see killJournal
	crashNEnv       = "JOURNAL_TEST_CRASH_N"       // which applicant
)

// Short times, so that the matrix stays fast: leases of the killed children
// run out, and closes settle, within a second.
const (
	crashSettle = 300 * time.Millisecond
	crashLease  = 700 * time.Millisecond
)

// hashOrdinaria is a visura whose applicant is two short values.
const hashOrdinaria = "eccbc87e4b5ce2fe28308fd9f2a7baf3"

func applicantValues(n int) visengine.Values {
	return visengine.Values{"$0": strconv.Itoa(1378000 + n), "$1": "RM"}
}

// crashPoint is one step boundary of Submit and what recovery must make
// of a submission killed there.
type crashPoint struct {
	name      string
	journalAt string                     // the child kills itself in its journal (killJournal)
	proxyAt   string                     // the parent kills the child in its proxy (killProxy)
	want      visengine.ResolutionStatus // Recover's; "" when Submit finished it
	outcome   visengine.JournalOutcome   // recorded in the end
	charged   bool
	// behind: only a journal that writes completed outcomes behind (a
	// Postgres) loses the one written here; a Dir wrote it to its log
	// before Update returned, so Submit finished the entry.
	behind bool
}

var crashMatrix = []crashPoint{
	{name: "before the POST", journalAt: "create", want: visengine.ResolutionAbandoned, outcome: visengine.JournalAbandoned},
	{name: "POST left, not applied", proxyAt: "post", want: visengine.ResolutionAbandoned, outcome: visengine.JournalAbandoned},
	{name: "POST applied, before its answer", proxyAt: "post-applied", want: visengine.ResolutionAbandoned, outcome: visengine.JournalAbandoned},
	{name: "answer read, before the journal write", journalAt: "draft", want: visengine.ResolutionAbandoned, outcome: visengine.JournalAbandoned},
	{name: "close recorded, before it left", journalAt: "close", want: visengine.ResolutionResumed, outcome: visengine.JournalCompleted, charged: true},
	{name: "close left, not applied", proxyAt: "put", want: visengine.ResolutionResumed, outcome: visengine.JournalCompleted, charged: true},
	{name: "close applied, before its answer", proxyAt: "put-applied", want: visengine.ResolutionCompleted, outcome: visengine.JournalCompleted, charged: true},
	{name: "close answered, before the journal write", journalAt: "outcome", want: visengine.ResolutionCompleted, outcome: visengine.JournalCompleted, charged: true},
	{name: "outcome written behind, before it reached the journal", journalAt: "behind", want: visengine.ResolutionCompleted, outcome: visengine.JournalCompleted, charged: true, behind: true},
	{name: "no crash", outcome: visengine.JournalCompleted, charged: true},
}

func TestCrashMatrixDir(t *testing.T) {
	t.Parallel()
	runCrashMatrix(t, "dir:"+filepath.Join(t.TempDir(), "journal"), 0)
}

func TestCrashMatrixPostgres(t *testing.T) {
	t.Parallel()
	url := pgtest.Start(t)
	_, err := journal.OpenPostgres(ctx, openPool(t, url)) // the table, before the children race for it
	require.NoError(t, err)
	runCrashMatrix(t, "pg:"+url, crashLease)
}

// runCrashMatrix runs every crash point against one journal, then one
// recovery process, and checks the outcome of each submission. leases is
// how long a killed child's leases outlive it (zero for a Dir, whose
// leases die with the process). The submitting children run one after the
// other on a Dir, which one process at a time may open, and at once on
// PostgreSQL, as replicas would.
func runCrashMatrix(t *testing.T, spec string, leases time.Duration) {
	postgres := strings.HasPrefix(spec, "pg:")
	concurrent := postgres // replicas run at once; a Dir is for one process at a time
	srv := visenginetest.NewServer()
	t.Cleanup(srv.Close)
	env := []string{crashTokenEnv + "=" + srv.Token, crashJournalEnv + "=" + spec}
	var wg sync.WaitGroup
	for n, pt := range crashMatrix {
		proxy := newKillProxy(t, srv.URL) // one per child, so that children can run at once
		run := func() {
			out, killed := runSubmitter(t, proxy, append(env, crashURLEnv+"="+proxy.URL), n, pt)
			assert.Equal(t, pt.journalAt != "" || pt.proxyAt != "", killed, "%s: killed as planned:\n%s", pt.name, out)
		}
		if !concurrent {
			run()
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); run() }()
	}
	wg.Wait()
	require.False(t, t.Failed())
	time.Sleep(max(leases, crashSettle) + 50*time.Millisecond)
	resolutions := runRecoverer(t, append(env, crashURLEnv+"="+srv.URL))

	j, done := openSpec(t, spec)
	defer done()
	secret, err := j.DigestSecret(ctx) // the killJournal wrapper kept it: the digests are keyed
	require.NoError(t, err)
	byDigest := map[string]visengine.JournalEntry{}
	entries, err := j.List(ctx, visengine.JournalFilter{})
	require.NoError(t, err)
	for _, e := range entries {
		byDigest[e.Digest] = e
	}
	require.Len(t, entries, len(crashMatrix), "one entry per submission")
	charged := chargedApplicants(t, srv)
	for n, pt := range crashMatrix {
		e, ok := byDigest[visengine.KeyedJournalDigest(secret, hashOrdinaria, applicantValues(n), nil)]
		require.True(t, ok, "%s: no journal entry", pt.name)
		assert.Equal(t, pt.outcome, e.Outcome, "%s: %v", pt.name, e)
		assert.Empty(t, e.LeaseOwner, "%s: lease released", pt.name)
		want := pt.want
		if pt.behind && !postgres {
			want = ""
		}
		res, recovered := resolutions[e.Ref]
		assert.Equal(t, want != "", recovered, "%s: recovered iff unfinished", pt.name)
		assert.Equal(t, string(want), res.Status, "%s: %+v", pt.name, res)
		charges := 0
		if pt.charged {
			charges = 1
		}
		assert.Equal(t, charges, charged[n], "%s: charges", pt.name)
	}
	for _, res := range resolutions {
		assert.Contains(t, []string{"completed", "resumed", "abandoned"}, res.Status, "never unknown with an honest fake: %+v", res)
	}

	// Idempotent: recovering again finds nothing to do.
	c := srv.Client(visengine.WithCloseSettle(crashSettle))
	rep, err := c.Recover(ctx, j)
	require.NoError(t, err)
	assert.Empty(t, rep.Resolutions)
	n, _ := srv.Charges()
	assert.Equal(t, 6, n, "one charge per submission that got as far as its close")
}

// chargedApplicants counts the charges by applicant number, reading each
// charged richiesta's values back.
func chargedApplicants(t *testing.T, srv *visenginetest.Server) map[int]int {
	c := srv.Client()
	out := map[int]int{}
	for _, ch := range srv.ChargeLog() {
		r, err := c.GetRichiesta(ctx, ch.RichiestaID)
		require.NoError(t, err)
		require.NotEmpty(t, r.Ricerche)
		v, err := strconv.Atoi(r.Ricerche[0].Valori()["$0"])
		require.NoError(t, err)
		out[v-1378000]++
	}
	return out
}

// runSubmitter runs one submitting child to its kill point (or its end)
// and returns its output and whether it was killed.
func runSubmitter(t *testing.T, proxy *killProxy, env []string, n int, pt crashPoint) (string, bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), env...), crashModeEnv+"=submit",
		crashKillEnv+"="+pt.journalAt, crashNEnv+"="+strconv.Itoa(n), "GORACE=atexit_sleep_ms=0")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	dead := make(chan struct{})
	proxy.arm(pt.proxyAt, cmd.Process, dead)
	timer := time.AfterFunc(20*time.Second, func() { _ = cmd.Process.Kill() }) // a hung child fails, not stalls
	defer timer.Stop()
	var out strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if sc.Text() == "KILLPOINT" {
			_ = cmd.Process.Kill()
		}
	}
	_ = cmd.Wait()
	close(dead)
	proxy.arm("", nil, nil)
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	return out.String() + stderr.String(), ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// crashResolution is one line of the recovering child's report.
type crashResolution struct {
	Ref, Status, DraftID, Reason string
}

// runRecoverer runs the recovering child and returns its report by Ref.
func runRecoverer(t *testing.T, env []string) map[string]crashResolution {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), env...), crashModeEnv+"=recover", "GORACE=atexit_sleep_ms=0")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	got := map[string]crashResolution{}
	for _, line := range strings.Split(string(out), "\n") {
		if js, ok := strings.CutPrefix(line, "RESOLUTION "); ok {
			var r crashResolution
			require.NoError(t, json.Unmarshal([]byte(js), &r))
			got[r.Ref] = r
		}
	}
	return got
}

// killProxy forwards to the fake and, when armed, kills the child at a
// request: before forwarding it ("post", "put": the server never sees it)
// or after the server applied it ("post-applied", "put-applied"), and in
// both cases before any answer goes back. It answers only once the child
// is dead, so that the child cannot act on a dropped connection.
type killProxy struct {
	*httptest.Server
	rp *httputil.ReverseProxy

	mu     sync.Mutex
	at     string
	victim *os.Process
	dead   chan struct{}
}

func newKillProxy(t *testing.T, target string) *killProxy {
	u, err := url.Parse(target)
	require.NoError(t, err)
	p := &killProxy{rp: httputil.NewSingleHostReverseProxy(u)}
	p.Server = httptest.NewServer(p)
	t.Cleanup(p.Close)
	return p
}

func (p *killProxy) arm(at string, victim *os.Process, dead chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.at, p.victim, p.dead = at, victim, dead
}

func (p *killProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	at, victim, dead := p.at, p.victim, p.dead
	hit := at != "" && (strings.HasPrefix(at, "post") && r.Method == http.MethodPost && r.URL.Path == "/richiesta" ||
		strings.HasPrefix(at, "put") && r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/richiesta/"))
	if hit {
		p.at = ""
	}
	p.mu.Unlock()
	if !hit {
		p.rp.ServeHTTP(w, r)
		return
	}
	if strings.HasSuffix(at, "-applied") {
		p.rp.ServeHTTP(httptest.NewRecorder(), r)
	}
	_ = victim.Kill()
	<-dead
	panic(http.ErrAbortHandler)
}

// crashChild is the child's work; its exit code is the process's.
func crashChild(mode string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	j, closeJournal, err := openJournal(ctx, os.Getenv(crashJournalEnv))
	if err != nil {
		fmt.Println("ERROR", err)
		return 1
	}
	defer closeJournal()
	opts := []visengine.Option{visengine.WithBaseURL(os.Getenv(crashURLEnv)), visengine.WithRetry(1, 0, 0),
		visengine.WithCloseSettle(crashSettle), visengine.WithJournalLease(crashLease)}
	if mode == "recover" {
		return recoverChild(ctx, j, opts)
	}
	opts = append(opts, visengine.WithJournal(&killJournal{Journal: j, at: os.Getenv(crashKillEnv)}))
	c, err := visengine.NewClient(os.Getenv(crashTokenEnv), opts...)
	if err != nil {
		fmt.Println("ERROR", err)
		return 1
	}
	v, err := c.GetVisura(ctx, hashOrdinaria)
	if err != nil {
		fmt.Println("ERROR", err)
		return 1
	}
	n, _ := strconv.Atoi(os.Getenv(crashNEnv))
	_, err = c.Submit(ctx, v, applicantValues(n))
	fmt.Println("DONE", err)
	return 0
}

func recoverChild(ctx context.Context, j visengine.Journal, opts []visengine.Option) int {
	c, err := visengine.NewClient(os.Getenv(crashTokenEnv), opts...)
	if err != nil {
		fmt.Println("ERROR", err)
		return 1
	}
	rep, err := c.Recover(ctx, j)
	if err != nil {
		fmt.Println("ERROR", err)
		return 1
	}
	for _, r := range rep.Resolutions {
		b, _ := json.Marshal(crashResolution{Ref: r.Ref, Status: string(r.Status), DraftID: r.DraftID, Reason: r.Reason})
		fmt.Println("RESOLUTION", string(b))
	}
	return 0
}

// openJournal opens the journal a spec names.
func openJournal(ctx context.Context, spec string) (visengine.Journal, func(), error) {
	if path, ok := strings.CutPrefix(spec, "dir:"); ok {
		d, err := journal.OpenDir(path)
		if err != nil {
			return nil, nil, err
		}
		return d, func() { _ = d.Close() }, nil
	}
	db, err := sql.Open("pgx", strings.TrimPrefix(spec, "pg:"))
	if err != nil {
		return nil, nil, err
	}
	p, err := journal.OpenPostgres(ctx, db)
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	// A completed outcome waits for Close or for a kill: the kill point
	// "behind" is then certain to come before it is written.
	journal.WriteBehindAfter(p, time.Hour)
	return p, func() { _ = p.Close(); _ = db.Close() }, nil
}

func openSpec(t *testing.T, spec string) (visengine.Journal, func()) {
	j, done, err := openJournal(ctx, spec)
	require.NoError(t, err)
	return j, done
}

// killJournal is the child's journal: at its kill point it says so on
// stdout and waits to be killed, so that the parent kills it exactly
// there: "create" once the intent is written (durable or not: see the
// durability classes of visengine.Journal), "draft" before the draft's
// id is written (with the close's time, in one write), "close" once that
// write is durable (before the PUT leaves), "outcome" before the outcome
// is written (after the close's answer), "behind" once Update returned
// for it (a Postgres has not written it yet: see openJournal).
type killJournal struct {
	visengine.Journal
	at string
}

func (k *killJournal) Create(ctx context.Context, e visengine.JournalEntry) error {
	err := k.Journal.Create(ctx, e)
	if err == nil && k.at == "create" {
		k.die()
	}
	return err
}

func (k *killJournal) Update(ctx context.Context, e visengine.JournalEntry) error {
	if k.at == "draft" && e.DraftID != "" && e.Outcome == "" || k.at == "outcome" && e.Outcome != "" {
		k.die()
	}
	err := k.Journal.Update(ctx, e)
	if err == nil && (k.at == "close" && !e.CloseSentAt.IsZero() && e.Outcome == "" || k.at == "behind" && e.Outcome != "") {
		k.die()
	}
	return err
}

func (k *killJournal) die() {
	fmt.Println("KILLPOINT")
	time.Sleep(time.Minute) // the parent kills it long before
	os.Exit(3)
}

// Replicas: 100 unfinished entries in PostgreSQL, each a draft on the fake;
// three recoverers with their own *sql.DB pools start at once. Every draft
// is closed exactly once, by one of them, and no lease is left behind.
func TestRecoverReplicas(t *testing.T) {
	t.Parallel()
	const entries = 100
	url := pgtest.Start(t)
	srv := visenginetest.NewServer()
	t.Cleanup(srv.Close)
	setup := srv.Client()
	j, err := journal.OpenPostgres(ctx, openPool(t, url))
	require.NoError(t, err)
	drafts := map[string]bool{}
	for n := range entries {
		r, err := setup.CreateRichiesta(ctx, &visengine.RichiestaParams{HashVisura: hashOrdinaria, JSONVisura: applicantValues(n)})
		require.NoError(t, err)
		drafts[r.ID] = true
		e := visengine.JournalEntry{Ref: fmt.Sprintf("%032x", n+1), HashVisura: hashOrdinaria,
			Digest: visengine.JournalDigest(hashOrdinaria, applicantValues(n), nil), CreatedAt: time.Now().Add(-time.Hour),
			DraftID: r.ID, LeaseOwner: "crashed", LeaseUntil: time.Now().Add(time.Minute)}
		if n%2 == 0 {
			e.CloseSentAt = time.Now().Add(-time.Hour) // a close was sent, long ago, and lost
		}
		require.NoError(t, j.Create(ctx, e))
		require.NoError(t, j.Release(ctx, e.Ref, "crashed"))
	}
	n0 := len(srv.Requests())

	start := make(chan struct{})
	reports := make([]*visengine.RecoverReport, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range reports {
		rj, err := journal.OpenPostgres(ctx, openPool(t, url)) // a replica: its own pool
		require.NoError(t, err)
		c := srv.Client(visengine.WithCloseSettle(time.Minute))
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			reports[i], errs[i] = c.Recover(ctx, rj)
		}()
	}
	close(start)
	wg.Wait()

	seen := map[string]int{}
	for i, rep := range reports {
		require.NoError(t, errs[i])
		for _, res := range rep.Resolutions {
			seen[res.Ref]++
			assert.Equal(t, visengine.ResolutionResumed, res.Status, "%v", res)
		}
	}
	assert.Len(t, seen, entries, "every entry recovered")
	for ref, n := range seen {
		assert.Equal(t, 1, n, "%s recovered by %d replicas", ref, n)
	}
	closesByID := map[string]int{}
	for _, q := range srv.Requests()[n0:] {
		if q.Method == http.MethodPut {
			closesByID[strings.TrimPrefix(q.Path, "/richiesta/")]++
		}
	}
	assert.Len(t, closesByID, entries)
	for id, n := range closesByID {
		assert.True(t, drafts[id])
		assert.Equal(t, 1, n, "draft %s closed %d times", id, n)
	}
	n, _ := srv.Charges()
	assert.Equal(t, entries, n)

	db := openPool(t, url)
	var leased, unfinished int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE lease_owner <> '' OR lease_until IS NOT NULL),
		count(*) FILTER (WHERE outcome <> 'completed') FROM visengine_journal`).Scan(&leased, &unfinished))
	assert.Zero(t, leased, "every lease released")
	assert.Zero(t, unfinished)
	if t.Failed() {
		for _, rep := range reports {
			t.Logf("%+v", rep)
		}
	}
}

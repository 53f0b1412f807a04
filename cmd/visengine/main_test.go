package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/journal"
	"github.com/visengine-go/visengine/oauth"
	"github.com/visengine-go/visengine/visenginetest"
)

// TestMain lets the scripts run "visengine" as a real process: this test
// binary, re-executed as the command.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"visengine": main})
}

// fakeKey is where a script's fake server is kept in its Env.Values.
type fakeKey struct{}

// TestScripts runs testdata/script/*.txtar, each against its own fake
// Visengine whose URL and token are exported as VISENGINE_URL and
// VISENGINE_TOKEN.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			srv := visenginetest.NewServer(visenginetest.WithToken("cli-test-token"))
			e.Defer(srv.Close)
			e.Values[fakeKey{}] = srv
			e.Setenv(envURL, srv.URL)
			e.Setenv(envToken, srv.Token)
			e.Setenv(envOAuthURL, srv.OAuthURL)
			e.Setenv("OAUTH_V1_URL", srv.OAuthV1URL)
			e.Setenv(envEmail, srv.Email)
			e.Setenv(envAPIKey, srv.APIKey)
			e.Setenv("A2", "2631ec9b62135de4186f509fea7d954b")
			e.Setenv(envNoColor, "")
			e.Setenv("TZ", "UTC")
			// submit journals by default: into the script's own state folder.
			e.Setenv("XDG_STATE_HOME", filepath.Join(e.WorkDir, ".state"))
			// The race detector sleeps a second as each process exits,
			// which would be most of these tests' time under -race.
			e.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
			addr, err := freeAddr()
			e.Setenv("FREE_ADDR", addr)
			return err
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": cmdExitcode,
			"json":     cmdJSON,
			"capture":  cmdCapture,
			"fake":     cmdFake,
			"waitport": cmdWaitport,
			"journal":  cmdJournal,
		},
	})
}

// freeAddr returns a loopback address with a port free a moment ago, for
// "visengine fake --addr".
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// cmdExitcode runs a command and checks its exit status:
//
//	exitcode 2 visengine validate $A2 bad.json
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("%v", err)
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}

// cmdJSON checks a value in the last command's standard output, parsed as
// JSON: "json PATH WANT", where PATH is "." for the whole value or keys and
// indexes joined by dots, ending in "len" for a length ("problems.len"); WANT is
// compared with a string's text, or another value's compact JSON.
//
//	json 0.code missing
//	json total 24.00
//	json len 1
func cmdJSON(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: json PATH WANT")
	}
	dec := json.NewDecoder(strings.NewReader(ts.ReadFile("stdout")))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		ts.Fatalf("stdout is not JSON: %v", err)
	}
	got, err := jsonAt(v, args[0])
	if err != nil {
		ts.Fatalf("%s: %v", args[0], err)
	}
	if (got == args[1]) == neg {
		ts.Fatalf("%s is %s, want %s%s", args[0], got, map[bool]string{true: "not "}[neg], args[1])
	}
}

// jsonAt walks path in v and renders what it finds.
func jsonAt(v any, path string) (string, error) {
	if path != "." {
		for _, step := range strings.Split(path, ".") {
			switch x := v.(type) {
			case map[string]any:
				if step == "len" {
					v = json.Number(strconv.Itoa(len(x)))
					continue
				}
				var ok bool
				if v, ok = x[step]; !ok {
					return "", errors.New("no key " + step)
				}
			case []any:
				if step == "len" {
					v = json.Number(strconv.Itoa(len(x)))
					continue
				}
				i, err := strconv.Atoi(step)
				if err != nil || i < 0 || i >= len(x) {
					return "", errors.New("no index " + step)
				}
				v = x[i]
			default:
				return "", errors.New("cannot step into a scalar at " + step)
			}
		}
	}
	if s, ok := v.(string); ok {
		return s, nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return strings.TrimSpace(b.String()), err
}

// cmdCapture sets an environment variable to the last command's standard
// output, trimmed ("capture ID" after a submit), to a value in it read as
// JSON ("capture TOKEN token", with cmdJSON's paths), or to the first group
// of a regular expression in its standard error ("capture ID stderr
// 'richiesta (\w+)'").
func cmdCapture(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 3 {
		ts.Fatalf("usage: capture NAME [PATH | stderr REGEXP]")
	}
	out := strings.TrimSpace(ts.ReadFile("stdout"))
	switch {
	case len(args) == 3 && args[1] == "stderr":
		m := regexp.MustCompile(args[2]).FindStringSubmatch(ts.ReadFile("stderr"))
		if len(m) < 2 {
			ts.Fatalf("stderr does not match %s", args[2])
		}
		out = m[1]
	case len(args) == 2:
		var v any
		dec := json.NewDecoder(strings.NewReader(out))
		dec.UseNumber()
		ts.Check(dec.Decode(&v))
		var err error
		out, err = jsonAt(v, args[1])
		ts.Check(err)
	}
	ts.Setenv(args[0], out)
}

// cmdFake plays the operator and the network on the script's fake server:
//
//	fake complete|advance|cancel ID
//	fake charges COUNT TOTAL     (TOTAL in euro, e.g. 24.00)
//	fake balance EURO
//	fake requests METHOD PATH COUNT
//	fake sent REGEXP
//	fake fault METHOD PATTERN drop-after|drop-before|hang|status=CODE|delay=DURATION
//	fake waitreq METHOD N
//	fake clear faults
func cmdFake(ts *testscript.TestScript, neg bool, args []string) {
	srv := ts.Value(fakeKey{}).(*visenginetest.Server)
	if neg || len(args) < 2 {
		ts.Fatalf("usage: fake OP ARGS...")
	}
	switch op := args[0]; op {
	case "complete":
		ts.Check(srv.Complete(args[1]))
	case "advance":
		_, err := srv.Advance(args[1])
		ts.Check(err)
	case "cancel":
		ts.Check(srv.Cancel(args[1]))
	case "charges":
		count, total := srv.Charges()
		if got := strconv.Itoa(count) + " " + strings.TrimPrefix(total.String(), "€"); got != strings.Join(args[1:], " ") {
			ts.Fatalf("charges: %s, want %s", got, strings.Join(args[1:], " "))
		}
	case "requests": // fake requests METHOD PATH COUNT: how many were received
		n := 0
		for _, r := range srv.Requests() {
			if len(args) == 4 && r.Method == args[1] && r.Path == args[2] {
				n++
			}
		}
		if strconv.Itoa(n) != args[len(args)-1] {
			ts.Fatalf("%d requests %s, want %s", n, strings.Join(args[1:len(args)-1], " "), args[len(args)-1])
		}
	case "waitreq": // fake waitreq METHOD N: wait until N such requests arrived
		want, err := strconv.Atoi(args[len(args)-1])
		ts.Check(err)
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			n := 0
			for _, r := range srv.Requests() {
				if r.Method == args[1] {
					n++
				}
			}
			if n >= want {
				return
			}
			if time.Now().After(deadline) {
				ts.Fatalf("%d %s requests arrived, want %d", n, args[1], want)
			}
		}
	case "clear": // fake clear faults
		srv.ClearFaults()
	case "sent": // fake sent REGEXP: some request's body matches
		re := regexp.MustCompile(args[1])
		if !slices.ContainsFunc(srv.Requests(), func(r visenginetest.Request) bool { return re.Match(r.Body) }) {
			ts.Fatalf("no request body matches %s", args[1])
		}
	case "balance":
		p, err := visengine.ParsePrice(args[1])
		ts.Check(err)
		srv.SetBalance(p)
	case "issue": // fake issue NAME TTL: a token of the account, in $NAME (a negative TTL: expired)
		ttl, err := time.ParseDuration(args[len(args)-1])
		ts.Check(err)
		ts.Setenv(args[1], srv.IssueToken(ttl, oauth.VisengineScopes(false)...))
	case "charge": // fake charge AMOUNT: a Visengine charge written into the ledger by hand
		p, err := visengine.ParsePrice(args[1])
		ts.Check(err)
		srv.AddLedgerEntry(visenginetest.LedgerEntry{Amount: p.Neg(), Description: "API usage - visengine2.altravia.com"})
	case "fault":
		if len(args) != 4 {
			ts.Fatalf("usage: fake fault METHOD PATTERN KIND")
		}
		srv.Fault(args[1], args[2], fault(ts, args[3]))
	default:
		ts.Fatalf("unknown fake op %q", op)
	}
}

func fault(ts *testscript.TestScript, kind string) visenginetest.Fault {
	switch {
	case kind == "drop-after":
		return visenginetest.Fault{Drop: visenginetest.DropAfterApply, Times: -1}
	case kind == "hang": // once: hold the request until the client leaves, apply nothing
		return visenginetest.Fault{Delay: time.Hour, Drop: visenginetest.DropBeforeApply}
	case kind == "drop-before":
		return visenginetest.Fault{Drop: visenginetest.DropBeforeApply, Times: -1}
	case strings.HasPrefix(kind, "status="):
		code, err := strconv.Atoi(strings.TrimPrefix(kind, "status="))
		ts.Check(err)
		return visenginetest.Fault{Status: code, Times: -1}
	case strings.HasPrefix(kind, "delay="):
		d, err := time.ParseDuration(strings.TrimPrefix(kind, "delay="))
		ts.Check(err)
		return visenginetest.Fault{Delay: d, Times: -1}
	}
	ts.Fatalf("unknown fault %q", kind)
	return visenginetest.Fault{}
}

// cmdWaitport waits until something listens on an address.
func cmdWaitport(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitport ADDR")
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", args[0]); err == nil {
			c.Close()
			return
		}
	}
	ts.Fatalf("nothing listens on %s", args[0])
}

// cmdJournal looks into the script's submission journal, in its state folder:
//
//	journal count N        N entries
//	journal nomatch REGEXP no file of the journal matches
func cmdJournal(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: journal count N | journal nomatch REGEXP")
	}
	dir := filepath.Join(ts.Getenv("XDG_STATE_HOME"), "visengine", "journal")
	switch args[0] {
	case "count":
		j, err := journal.OpenDir(dir)
		ts.Check(err)
		defer j.Close()
		entries, err := j.List(context.Background(), visengine.JournalFilter{})
		ts.Check(err)
		if strconv.Itoa(len(entries)) != args[1] {
			ts.Fatalf("%d journal entries, want %s", len(entries), args[1])
		}
	case "nomatch":
		re := regexp.MustCompile(args[1])
		files, err := filepath.Glob(filepath.Join(dir, "*"))
		ts.Check(err)
		for _, f := range files {
			if b, err := os.ReadFile(f); err != nil || re.Match(b) {
				ts.Fatalf("%s matches %s (or: %v)", f, args[1], err)
			}
		}
	default:
		ts.Fatalf("unknown journal op %q", args[0])
	}
}

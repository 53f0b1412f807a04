// Package fakeserve runs the visenginetest fake as a server from a
// terminal: the one implementation behind "visengine fake" and
// cmd/visengine-fake, with one set of flags, one set of defaults and one
// output (export lines to eval on stdout, notes on stderr).
package fakeserve

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/visenginetest"
)

// DefaultProgress is how often a richiesta advances one state unless
// --progress says otherwise: soon enough for "visengine wait" to finish.
const DefaultProgress = 2 * time.Second

// Config is what the flags set.
type Config struct {
	Addr, Token, Email, APIKey, Wallet string
	Progress                           time.Duration
	AllowRemote                        bool
	Faults                             Faults
	RateLimit                          RateLimit
}

// Flags registers the flags on fs with their defaults. The cobra command
// adds fs to its own (pflag.FlagSet.AddGoFlagSet), so both commands take
// the same flags: "--progress 0" works with either.
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&c.Token, "token", "", "bearer token to accept (default: random)")
	fs.StringVar(&c.Email, "email", "test@example.com", "e-mail of the fake's Openapi account (OAuth Basic auth)")
	fs.StringVar(&c.APIKey, "apikey", "", "API key of the fake's Openapi account (default: random)")
	fs.StringVar(&c.Wallet, "wallet", "1000", "wallet balance in euro, e.g. 182.03")
	fs.DurationVar(&c.Progress, "progress", DefaultProgress, "advance richieste one state per this step (0: never)")
	fs.BoolVar(&c.AllowRemote, "allow-remote", false, "allow listening on a non-loopback address")
	fs.Var(&c.Faults, "fault", "misbehave on matching requests, e.g. 'PUT /richiesta/{id}=drop-after-apply' (repeatable; see 'Faults' below)")
	fs.Var(&c.RateLimit, "rate-limit", "answer 429 with Retry-After beyond this many requests, e.g. 5/s or 100/m")
}

// FlagHelp explains --fault, for the commands' long help.
const FlagHelp = `Faults: --fault 'METHOD PATH=ACTION[,ACTION...]' makes the fake misbehave on
the next matching request (METHOD may be *; PATH segments {name} or * match any
one), to rehearse what a real gateway does to a paid call:
  drop-before-apply    close the connection; nothing happens on the server
  drop-after-apply     apply the request (a close charges), then close the
                       connection without an answer: the outcome is unknown
  STATUS or status:N   answer HTTP N without applying the request (502, 429…)
  apply                with a status: apply the request, then answer it
  apply-after:DUR      apply it DUR later, in the background (a late commit)
  delay:DUR            wait DUR before answering
  truncate:N           apply it, then send only N bytes of the answer
  stale-reads:N        the next N reads of the richiesta show it as before
  retry-after:SECS     with a status: send Retry-After
  body:TEXT            with a status: answer TEXT (last: it takes the rest)
  times:N, always      hit N matching requests, or every one (default: 1)
Example: --fault 'PUT /richiesta/{id}=drop-after-apply' loses the answer to
the paying close; 'visengine submit' exits 3 and 'visengine resume ID' finds
the richiesta closed and charged once.`

// Fake is a running fake server.
type Fake struct {
	*visenginetest.Server
	Balance visengine.Price
}

// Start checks c, listens and starts the fake. Its errors are the flags'
// (or the address's) and name the flag.
func Start(c Config) (*Fake, error) {
	wallet, err := visengine.ParsePrice(c.Wallet)
	if err != nil {
		return nil, fmt.Errorf("--wallet: %w", err)
	}
	if err := checkAccount(c.Email, c.APIKey); err != nil {
		return nil, err
	}
	ln, err := listen(c.Addr, c.AllowRemote)
	if err != nil {
		return nil, err
	}
	opts := []visenginetest.Option{visenginetest.WithWallet(wallet), visenginetest.WithAutoAdvance(c.Progress),
		visenginetest.WithOwner(c.Email), visenginetest.WithRateLimit(c.RateLimit.N, c.RateLimit.Per)}
	if c.Token != "" {
		opts = append(opts, visenginetest.WithToken(c.Token))
	}
	if c.APIKey != "" {
		opts = append(opts, visenginetest.WithAPIKey(c.APIKey))
	}
	srv := visenginetest.NewUnstartedServer(opts...)
	if err := c.Faults.install(srv); err != nil {
		srv.Close()
		_ = ln.Close()
		return nil, err
	}
	srv.Listener = ln
	srv.Start()
	return &Fake{Server: srv, Balance: wallet}, nil
}

// Exports writes the variables to export, as lines a shell can eval.
func (f *Fake) Exports(w io.Writer) {
	fmt.Fprintf(w, "export VISENGINE_URL=%s\nexport VISENGINE_TOKEN=%s\n", f.URL, f.Token)
	fmt.Fprintf(w, "export OPENAPI_OAUTH_URL=%s\nexport OPENAPI_EMAIL=%s\nexport OPENAPI_APIKEY=%s\n", f.OAuthURL, f.Email, f.APIKey)
}

// Serve starts the fake, writes the exports to stdout and what they mean
// to stderr, and serves until ctx ends.
func Serve(ctx context.Context, c Config, stdout, stderr io.Writer, name string) error {
	f, err := Start(c)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(stderr, "%s: a fake Visengine at %s, wallet %s; nothing real is charged.\n", name, f.URL, f.Balance)
	fmt.Fprintf(stderr, "Richieste advance one state every %s%s; its OAuth v1 is at %s.\n", c.Progress, never(c.Progress), f.OAuthV1URL)
	for _, f := range c.Faults {
		fmt.Fprintf(stderr, "Fault on the next %s %s: %s\n", f.Method, f.Pattern, f.Spec)
	}
	if c.RateLimit.N > 0 {
		fmt.Fprintf(stderr, "Rate limit: %s, then 429 with Retry-After.\n", c.RateLimit.String())
	}
	fmt.Fprintln(stderr, `Export these in another shell, or eval "$(`+name+` …)": VISENGINE_URL and OPENAPI_OAUTH_URL make the token and the key go to this server only, never to production; Ctrl-C stops it:`)
	f.Exports(stdout)
	<-ctx.Done()
	fmt.Fprintf(stderr, "%s: shutting down\n", name)
	return nil
}

func never(d time.Duration) string {
	if d <= 0 {
		return " (0: never; 'visengine wait' would wait forever)"
	}
	return ""
}

// checkAccount refuses credentials HTTP Basic auth cannot carry.
func checkAccount(email, apiKey string) error {
	blank := func(r rune) bool { return r <= ' ' || r == 0x7f }
	switch {
	case email == "" || strings.ContainsRune(email, ':') || strings.IndexFunc(email, blank) >= 0:
		return errors.New("--email must be non-empty, without ':', blanks or control characters")
	case strings.IndexFunc(apiKey, func(r rune) bool { return blank(r) || r > '~' }) >= 0:
		return errors.New("--apikey must be printable ASCII without blanks")
	}
	return nil
}

// listen opens addr, refusing a non-loopback host unless allowed: the fake
// has no real security.
func listen(addr string, allowRemote bool) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--addr: %w", err)
	}
	ip := net.ParseIP(host)
	if loopback := host == "localhost" || (ip != nil && ip.IsLoopback()); !loopback && !allowRemote {
		return nil, fmt.Errorf("--addr %s is not a loopback address; pass --allow-remote to listen on it", addr)
	}
	return net.Listen("tcp", addr)
}

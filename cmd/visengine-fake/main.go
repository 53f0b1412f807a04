// Command visengine-fake runs the visenginetest fake Visengine 2.0 server
// standalone, for integrators testing in any language:
//
//	go run ./cmd/visengine-fake -addr 127.0.0.1:8080 -progress 2s
//
// It prints its base URL and bearer token as two lines to export,
//
//	VISENGINE_URL=http://127.0.0.1:8080
//	VISENGINE_TOKEN=…
//
// and the Openapi account of its OAuth service (v2 at URL/oauth/v2, v1 at
// URL/oauth/v1), whose tokens the fake accepts within their scopes, as
// three more:
//
//	OPENAPI_OAUTH_URL=http://127.0.0.1:8080/oauth/v2
//	OPENAPI_EMAIL=test@example.com
//	OPENAPI_APIKEY=…
//
// and stops cleanly on SIGINT or SIGTERM. Every example in examples/ reads
// VISENGINE_URL and, when it is set, talks to that server whatever its
// flags say, so exporting both never sends the fake's token to production;
// examples/token reads OPENAPI_OAUTH_URL the same way, so the fake's API key
// never reaches Openapi.
// Programs of your own should do the same: pass VISENGINE_URL to
// visengine.WithBaseURL whenever they read VISENGINE_TOKEN.
//
// It listens on loopback only unless -allow-remote is given: the fake has no
// real security, and its callbacks only reach loopback anyway.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/visenginetest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout)
	switch {
	case errors.Is(err, flag.ErrHelp): // -h: the usage is printed, nothing else to do
	case err != nil:
		fmt.Fprintln(os.Stderr, "visengine-fake:", err)
		os.Exit(2)
	}
}

// options are the command's flags.
type options struct {
	addr        string
	token       string
	email       string
	apiKey      string
	wallet      string
	progress    time.Duration
	allowRemote bool
}

func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("visengine-fake", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&o.token, "token", "", "bearer token to accept (default: random)")
	fs.StringVar(&o.email, "email", "test@example.com", "e-mail of the fake's Openapi account (OAuth Basic auth)")
	fs.StringVar(&o.apiKey, "apikey", "", "API key of the fake's Openapi account (default: random)")
	fs.StringVar(&o.wallet, "wallet", "1000", "wallet balance in euro, e.g. 182.03")
	fs.DurationVar(&o.progress, "progress", 0, "advance richieste one state per this step (0: never)")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow listening on a non-loopback address")
	return o, fs.Parse(args)
}

// run serves until ctx ends; -h returns flag.ErrHelp.
func run(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseFlags(args, out)
	if err != nil {
		return err
	}
	wallet, err := visengine.ParsePrice(o.wallet)
	if err != nil {
		return fmt.Errorf("-wallet: %w", err)
	}
	if err := checkAccount(o.email, o.apiKey); err != nil {
		return err
	}
	ln, err := listen(o.addr, o.allowRemote)
	if err != nil {
		return err
	}
	opts := []visenginetest.Option{visenginetest.WithWallet(wallet), visenginetest.WithAutoAdvance(o.progress), visenginetest.WithOwner(o.email)}
	if o.token != "" {
		opts = append(opts, visenginetest.WithToken(o.token))
	}
	if o.apiKey != "" {
		opts = append(opts, visenginetest.WithAPIKey(o.apiKey))
	}
	srv := visenginetest.NewUnstartedServer(opts...)
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	fmt.Fprintf(out, "visengine-fake listening on %s\n", srv.URL)
	fmt.Fprintln(out, "# Export both lines: the examples read VISENGINE_URL, so this token goes to this server, never to production.")
	fmt.Fprintf(out, "VISENGINE_URL=%s\nVISENGINE_TOKEN=%s\n", srv.URL, srv.Token)
	fmt.Fprintf(out, "# Its Openapi account (OAuth v2; v1 at %s): examples/token reads OPENAPI_OAUTH_URL, so this key goes to this server, never to Openapi.\n", srv.OAuthV1URL)
	fmt.Fprintf(out, "OPENAPI_OAUTH_URL=%s\nOPENAPI_EMAIL=%s\nOPENAPI_APIKEY=%s\n", srv.OAuthURL, srv.Email, srv.APIKey)
	<-ctx.Done()
	fmt.Fprintln(out, "visengine-fake: shutting down")
	return nil
}

// checkAccount refuses credentials HTTP Basic auth cannot carry.
func checkAccount(email, apiKey string) error {
	blank := func(r rune) bool { return r <= ' ' || r == 0x7f }
	switch {
	case email == "" || strings.ContainsRune(email, ':') || strings.IndexFunc(email, blank) >= 0:
		return errors.New("-email must be non-empty, without ':', blanks or control characters")
	case strings.IndexFunc(apiKey, func(r rune) bool { return blank(r) || r > '~' }) >= 0:
		return errors.New("-apikey must be printable ASCII without blanks")
	}
	return nil
}

// listen opens addr, refusing a non-loopback host unless allowed.
func listen(addr string, allowRemote bool) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("-addr: %w", err)
	}
	ip := net.ParseIP(host)
	loopback := host == "localhost" || (ip != nil && ip.IsLoopback())
	if !loopback && !allowRemote {
		return nil, fmt.Errorf("-addr %s is not a loopback address; pass -allow-remote to listen on it", addr)
	}
	return net.Listen("tcp", addr)
}

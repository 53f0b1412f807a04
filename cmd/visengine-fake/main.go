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
// and stops cleanly on SIGINT or SIGTERM. Every example in examples/ reads
// VISENGINE_URL and, when it is set, talks to that server whatever its
// flags say, so exporting both never sends the fake's token to production.
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
	ln, err := listen(o.addr, o.allowRemote)
	if err != nil {
		return err
	}
	opts := []visenginetest.Option{visenginetest.WithWallet(wallet), visenginetest.WithAutoAdvance(o.progress)}
	if o.token != "" {
		opts = append(opts, visenginetest.WithToken(o.token))
	}
	srv := visenginetest.NewUnstartedServer(opts...)
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	fmt.Fprintf(out, "visengine-fake listening on %s\n", srv.URL)
	fmt.Fprintln(out, "# Export both lines: the examples read VISENGINE_URL, so this token goes to this server, never to production.")
	fmt.Fprintf(out, "VISENGINE_URL=%s\nVISENGINE_TOKEN=%s\n", srv.URL, srv.Token)
	<-ctx.Done()
	fmt.Fprintln(out, "visengine-fake: shutting down")
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

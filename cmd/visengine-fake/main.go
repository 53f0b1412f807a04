// Command visengine-fake runs the visenginetest fake Visengine 2.0 server
// standalone, for integrators testing in any language. It is the same
// server, with the same flags, defaults and output, as "visengine fake":
//
//	eval "$(go run ./cmd/visengine-fake --addr 127.0.0.1:8080)"
//
// It prints the variables to export as lines a shell can eval, the base URL
// and bearer token of the fake and the Openapi account of its OAuth service
// (v2 at URL/oauth/v2, v1 at URL/oauth/v1), whose tokens the fake accepts
// within their scopes:
//
//	export VISENGINE_URL=http://127.0.0.1:8080
//	export VISENGINE_TOKEN=…
//	export OPENAPI_OAUTH_URL=http://127.0.0.1:8080/oauth/v2
//	export OPENAPI_EMAIL=test@example.com
//	export OPENAPI_APIKEY=…
//
// with what they mean on stderr, and stops cleanly on SIGINT or SIGTERM.
// Richieste advance one state every --progress (2s by default, so that
// "visengine wait" and the examples' paid path finish). --fault and
// --rate-limit make it misbehave as a gateway does, to rehearse a lost
// answer, a late commit or a 429 (see -h).
//
// Every example in examples/ reads VISENGINE_URL and, when it is set, talks
// to that server whatever its flags say, so exporting both never sends the
// fake's token to production; examples/token reads OPENAPI_OAUTH_URL the
// same way, so the fake's API key never reaches Openapi. Programs of your
// own should do the same: pass VISENGINE_URL to visengine.WithBaseURL
// whenever they read VISENGINE_TOKEN.
//
// It listens on loopback only unless --allow-remote is given: the fake has
// no real security, and its callbacks only reach loopback anyway.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/visengine-go/visengine/cmd/internal/fakeserve"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp): // -h: the usage is printed, nothing else to do
	case err != nil:
		fmt.Fprintln(os.Stderr, "visengine-fake:", err)
		os.Exit(2)
	}
}

// run serves until ctx ends; -h returns flag.ErrHelp after printing the
// usage on stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c fakeserve.Config
	fs := flag.NewFlagSet("visengine-fake", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.Flags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage of visengine-fake:")
		fs.PrintDefaults()
		fmt.Fprintln(stderr, "\n"+fakeserve.FlagHelp)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return fakeserve.Serve(ctx, c, stdout, stderr, "visengine-fake")
}

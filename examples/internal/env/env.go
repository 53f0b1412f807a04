// Package env chooses where the examples run, so each of them decides it
// the same way: with no VISENGINE_TOKEN in the environment, on an embedded
// fake Visengine server (visenginetest) that needs no account and charges
// nothing; with a token, on the real API, or on the sandbox with -sandbox.
package env

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/visenginetest"
)

// TokenVar is the environment variable that holds the Visengine token.
const TokenVar = "VISENGINE_TOKEN"

// FakeStep is how long the embedded fake keeps a richiesta in each state
// (In erogazione, Dati disponibili) before moving it on, so the examples
// show the whole lifecycle in well under a second.
const FakeStep = 150 * time.Millisecond

// Open returns a client for the chosen environment and says on out, in one
// line, which one it is. fake is the embedded server, or nil when the
// client talks to Visengine itself; cleanup releases what Open started and
// must be called when done (also after an error it is a no-op). fakeOpts
// are passed to the fake, after WithAutoAdvance(FakeStep).
func Open(out io.Writer, sandbox bool, fakeOpts ...visenginetest.Option) (c *visengine.Client, fake *visenginetest.Server, cleanup func(), err error) {
	cleanup = func() {}
	token := os.Getenv(TokenVar)
	if token == "" {
		if sandbox {
			return nil, nil, cleanup, errors.New("-sandbox needs a sandbox token in " + TokenVar)
		}
		fake = visenginetest.NewServer(append([]visenginetest.Option{visenginetest.WithAutoAdvance(FakeStep)}, fakeOpts...)...)
		fmt.Fprintf(out, "No %s set: using the embedded fake Visengine server (no account, nothing charged).\n", TokenVar)
		return fake.Client(), fake, fake.Close, nil
	}
	opts := []visengine.Option{visengine.WithUserAgent("visengine-examples")}
	where := "the real Visengine API (" + visengine.ProductionURL + ")"
	if sandbox {
		opts = append(opts, visengine.WithSandbox())
		where = "the Visengine sandbox (" + visengine.SandboxURL + ")"
	}
	c, err = visengine.NewClient(token, opts...)
	if err != nil {
		return nil, nil, cleanup, err
	}
	fmt.Fprintf(out, "Using %s with the token in %s.\n", where, TokenVar)
	return c, nil, cleanup, nil
}

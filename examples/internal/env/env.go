// Package env chooses the Visengine server an example talks to, so every
// example decides it the same way and says so in its first line:
//
//   - VISENGINE_URL set: that server (for example the one cmd/visengine-fake
//     prints), with the token in VISENGINE_TOKEN. It wins over -sandbox, so
//     exporting the fake's two lines can never send its token to production.
//   - otherwise, no VISENGINE_TOKEN: an embedded fake Visengine server
//     (visenginetest) that needs no account and charges nothing;
//   - otherwise, the real API with the token, or the sandbox with -sandbox.
package env

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/visenginetest"
)

// The environment variables the examples read.
const (
	TokenVar = "VISENGINE_TOKEN" // the bearer token
	URLVar   = "VISENGINE_URL"   // another server's base URL, e.g. visengine-fake's
)

// FakeStep is how long the embedded fake keeps a richiesta in each state
// (In erogazione, Dati disponibili) before moving it on, so the examples
// show the whole lifecycle in well under a second.
const FakeStep = 150 * time.Millisecond

// Kind says which server a Target is.
type Kind int

// The servers an example can talk to.
const (
	Embedded   Kind = iota // the embedded fake: nothing is charged
	Custom                 // the server named by VISENGINE_URL
	Sandbox                // SandboxURL
	Production             // ProductionURL: real money
)

// Target is the server an example talks to and its client.
type Target struct {
	Kind   Kind
	Client *visengine.Client
	// Fake is the embedded fake server, set only when Kind is Embedded, so
	// an example can play the operator or read the fake's wallet.
	Fake *visenginetest.Server
}

// Close stops the embedded fake, if any.
func (t *Target) Close() {
	if t != nil && t.Fake != nil {
		t.Fake.Close()
	}
}

// choice is where the environment points, before any client is built.
type choice struct {
	kind           Kind
	url, token     string
	sandboxIgnored bool // -sandbox was given but VISENGINE_URL wins
}

// choose applies the rules of the package doc to the environment (getenv)
// and the -sandbox flag.
func choose(getenv func(string) string, sandbox bool) (choice, error) {
	url, token := strings.TrimSpace(getenv(URLVar)), strings.TrimSpace(getenv(TokenVar))
	switch {
	case url != "" && token == "":
		return choice{}, errors.New(URLVar + " is set but " + TokenVar + " is not: export both (visengine-fake prints them), or unset " + URLVar)
	case url != "":
		return choice{kind: Custom, url: url, token: token, sandboxIgnored: sandbox}, nil
	case token == "" && sandbox:
		return choice{}, errors.New("-sandbox needs a sandbox token in " + TokenVar)
	case token == "":
		return choice{kind: Embedded}, nil
	case sandbox:
		return choice{kind: Sandbox, url: visengine.SandboxURL, token: token}, nil
	}
	return choice{kind: Production, url: visengine.ProductionURL, token: token}, nil
}

// Open returns the Target the environment (getenv, usually os.Getenv) and
// the -sandbox flag choose, and says on out which server it is, never
// printing the token. fakeOpts configure the embedded fake, after
// WithAutoAdvance(FakeStep). Close the Target when done.
func Open(out io.Writer, getenv func(string) string, sandbox bool, fakeOpts ...visenginetest.Option) (*Target, error) {
	ch, err := choose(getenv, sandbox)
	if err != nil {
		return nil, err
	}
	if ch.kind == Embedded {
		fake := visenginetest.NewServer(append([]visenginetest.Option{visenginetest.WithAutoAdvance(FakeStep)}, fakeOpts...)...)
		fmt.Fprintf(out, "No %s set: using the embedded fake Visengine server at %s (no account, nothing charged).\n", TokenVar, fake.URL)
		return &Target{Kind: Embedded, Client: fake.Client(), Fake: fake}, nil
	}
	c, err := visengine.NewClient(ch.token, visengine.WithBaseURL(ch.url), visengine.WithUserAgent("visengine-examples"))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", describe(ch.kind), err)
	}
	if ch.sandboxIgnored {
		fmt.Fprintf(out, "-sandbox ignored: %s is set and wins.\n", URLVar)
	}
	fmt.Fprintf(out, "Using %s at %s with the token in %s.\n", describe(ch.kind), c.BaseURL(), TokenVar)
	return &Target{Kind: ch.kind, Client: c}, nil
}

// describe names a kind of server in a sentence.
func describe(k Kind) string {
	switch k {
	case Custom:
		return "the Visengine server named by " + URLVar
	case Sandbox:
		return "the Visengine sandbox"
	case Production:
		return "the real Visengine API"
	}
	return "the embedded fake Visengine server"
}

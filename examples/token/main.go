// Token goes from an Openapi account (e-mail and API key) to a working
// Visengine client, one function per step:
//
//  1. openAccount: an oauth.Client for the account (HTTP Basic auth)
//  2. getToken: a TokenSource creates a Visengine token; its scopes and
//     expiry are printed (the sandbox's scopes carry the "test." prefix)
//  3. printWallet: the wallet's credit, exact to the millionth of a euro
//  4. useToken: a visengine.Client that takes its token from the source
//     (visengine.WithTokenSource) reads the catalogue and the A2 price, and
//     says how many A2 filings the credit pays for (WithCreditCheck makes
//     Submit check it before paying)
//  5. release: the token is revoked, unless -store keeps it for next time
//
// Run it with
//
//	go run ./examples/token
//
// With OPENAPI_EMAIL and OPENAPI_APIKEY set it uses Openapi's OAuth
// service (oauth.openapi.com, or test.oauth.openapi.com with -sandbox)
// and then Visengine's production or sandbox host; with neither set it
// starts an embedded fake (visenginetest: Visengine and its OAuth service)
// and says so. OPENAPI_OAUTH_URL, as cmd/visengine-fake prints it, points
// at another OAuth service and wins over -sandbox, so exporting the fake's
// lines never sends its key to Openapi; the token is then tried on
// VISENGINE_URL, and on nothing if that is not set. Nothing is charged:
// creating a token is free and step 4 only reads.
//
// Flags:
//
//	-sandbox     use the sandbox (OAuth and Visengine) with a sandbox account
//	-readonly    ask for the read-only scopes only (GET): nothing can be bought
//	-store FILE  keep the token in FILE (mode 0600) and reuse it on the next run
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/oauth"
	"github.com/visengine-go/visengine/visenginetest"
)

// The environment variables the example reads.
const (
	emailVar     = "OPENAPI_EMAIL"
	apiKeyVar    = "OPENAPI_APIKEY"
	oauthURLVar  = "OPENAPI_OAUTH_URL" // another OAuth service, e.g. visengine-fake's
	visengineVar = "VISENGINE_URL"     // another Visengine server, e.g. visengine-fake's
)

// hashA2 is the service "Domanda Esame A2 per Carta di Soggiorno".
const hashA2 = "2631ec9b62135de4186f509fea7d954b"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp): // -h: the usage is printed, nothing else to do
	case err != nil:
		fmt.Fprintln(os.Stderr, "token:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	sandbox  bool
	readOnly bool
	store    string
}

func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.BoolVar(&o.sandbox, "sandbox", false, "use the sandbox, with a sandbox account in "+emailVar+" and "+apiKeyVar)
	fs.BoolVar(&o.readOnly, "readonly", false, "ask for the read-only (GET) scopes only")
	fs.StringVar(&o.store, "store", "", "keep the token in this file (mode 0600) and reuse it on the next run")
	return o, fs.Parse(args)
}

// run is the whole example; main calls it with the command line and stdout,
// tests with their own arguments and a buffer. -h returns flag.ErrHelp.
func run(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseFlags(args, out)
	if err != nil {
		return err
	}
	t, err := openAccount(out, os.Getenv, o.sandbox)
	if err != nil {
		return err
	}
	defer t.close()
	ts, tok, err := getToken(ctx, out, t, o)
	if err != nil {
		return err
	}
	credit, err := printWallet(ctx, out, t.account)
	if err != nil {
		return err
	}
	if err := useToken(ctx, out, t, ts, credit); err != nil {
		return err
	}
	return release(ctx, out, t.account, tok, o.store)
}

// target is where the example gets its token and where it tries it.
type target struct {
	account   *oauth.Client
	visengine string                // the Visengine base URL to try the token on; "" for none
	fake      *visenginetest.Server // the embedded fake, if any
}

func (t *target) close() {
	if t.fake != nil {
		t.fake.Close()
	}
}

// openAccount reads the account from the environment (getenv) and says on
// out which OAuth service it uses, never printing the e-mail or the key.
func openAccount(out io.Writer, getenv func(string) string, sandbox bool) (*target, error) {
	email, key := strings.TrimSpace(getenv(emailVar)), strings.TrimSpace(getenv(apiKeyVar))
	oauthURL, vURL := strings.TrimSpace(getenv(oauthURLVar)), strings.TrimSpace(getenv(visengineVar))
	switch {
	case email == "" && key == "" && oauthURL != "":
		return nil, errors.New(oauthURLVar + " is set but " + emailVar + " and " + apiKeyVar + " are not: export all three (visengine-fake prints them)")
	case email == "" && key == "" && sandbox:
		return nil, errors.New("-sandbox needs a sandbox account in " + emailVar + " and " + apiKeyVar)
	case email == "" && key == "":
		return embedded(out)
	case email == "" || key == "":
		return nil, errors.New("set both " + emailVar + " and " + apiKeyVar)
	case oauthURL != "":
		if sandbox {
			fmt.Fprintf(out, "-sandbox ignored: %s is set and wins.\n", oauthURLVar)
		}
		return account(out, &target{visengine: vURL}, email, key, oauth.WithBaseURL(oauthURL))
	}
	t := &target{visengine: visengine.ProductionURL}
	opts := []oauth.Option{}
	if sandbox {
		t.visengine, opts = visengine.SandboxURL, append(opts, oauth.WithSandbox())
	}
	if vURL != "" {
		t.visengine = vURL
	}
	return account(out, t, email, key, opts...)
}

// embedded starts the fake, whose account needs no credentials of yours.
func embedded(out io.Writer) (*target, error) {
	srv := visenginetest.NewServer()
	fmt.Fprintf(out, "No %s and %s set: using the embedded fake (Openapi's OAuth service and Visengine at %s; no account, nothing charged).\n",
		emailVar, apiKeyVar, srv.URL)
	t, err := account(io.Discard, &target{visengine: srv.URL, fake: srv}, srv.Email, srv.APIKey, oauth.WithBaseURL(srv.OAuthURL))
	if err != nil {
		srv.Close()
	}
	return t, err
}

// account makes the OAuth client for t.
func account(out io.Writer, t *target, email, key string, opts ...oauth.Option) (*target, error) {
	c, err := oauth.NewClient(email, key, opts...)
	if err != nil {
		return nil, err
	}
	t.account = c
	fmt.Fprintf(out, "Using the OAuth service at %s with the account in %s and %s.\n", c.BaseURL(), emailVar, apiKeyVar)
	return t, nil
}

// getToken makes the TokenSource and asks it for a token (created, or read
// from -store), then prints its scopes and expiry.
func getToken(ctx context.Context, out io.Writer, t *target, o options) (*oauth.TokenSource, *visengine.Token, error) {
	var opts []oauth.TokenSourceOption
	if o.readOnly {
		opts = append(opts, oauth.WithScopes(oauth.VisengineReadOnlyScopes(t.account.Sandbox())...))
	}
	if o.store != "" {
		store, err := oauth.NewFileTokenStore(o.store)
		if err != nil {
			return nil, nil, err
		}
		opts = append(opts, oauth.WithStore(store))
	}
	ts, err := oauth.NewTokenSource(t.account, opts...)
	if err != nil {
		return nil, nil, err
	}
	tok, err := ts.Token(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("getting a token: %w", err)
	}
	fmt.Fprintf(out, "\nVisengine token, expires %s (in %s), scopes:\n",
		tok.Expiry.Format(time.RFC3339), time.Until(tok.Expiry).Round(time.Hour))
	for _, s := range tok.Scopes {
		fmt.Fprintf(out, "  %s\n", s)
	}
	return ts, tok, nil
}

// printWallet reads the account's credit.
func printWallet(ctx context.Context, out io.Writer, c *oauth.Client) (visengine.Price, error) {
	credit, err := c.Credit(ctx)
	if err != nil {
		return visengine.Price{}, fmt.Errorf("reading the wallet: %w", err)
	}
	fmt.Fprintf(out, "\nWallet: %s\n", credit)
	return credit, nil
}

// useToken reads the catalogue and the A2 price with a client that takes
// its token from ts, and says how many A2 filings with urgenza the credit
// pays for: what Submit's WithCreditCheck(account) checks before paying.
func useToken(ctx context.Context, out io.Writer, t *target, ts *oauth.TokenSource, credit visengine.Price) error {
	if t.visengine == "" {
		fmt.Fprintf(out, "\nNot trying the token: %s is set but %s is not.\n", oauthURLVar, visengineVar)
		return nil
	}
	c, err := visengine.NewClient("", visengine.WithBaseURL(t.visengine), visengine.WithTokenSource(ts),
		visengine.WithUserAgent("visengine-examples"))
	if err != nil {
		return err
	}
	list, err := c.ListVisure(ctx)
	if err != nil {
		return fmt.Errorf("listing the catalogue with the token: %w", err)
	}
	fmt.Fprintf(out, "\nThe token works on %s: GET /visure lists %d services.\n", c.BaseURL(), len(list))
	v, err := c.GetVisura(ctx, hashA2)
	if err != nil {
		return fmt.Errorf("reading the A2 price: %w", err)
	}
	each, err := v.Total("urgenza")
	if err != nil || each.Sign() <= 0 {
		return fmt.Errorf("pricing A2 with urgenza: %v", err)
	}
	fmt.Fprintf(out, "The credit pays for %d A2 filings with urgenza (%s each).\n", max(credit.Micros()/each.Micros(), 0), each)
	return nil
}

// release revokes the token unless a store keeps it for the next run.
func release(ctx context.Context, out io.Writer, c *oauth.Client, tok *visengine.Token, store string) error {
	if store != "" {
		fmt.Fprintf(out, "\nToken kept in %s: the next run reuses it.\n", store)
		return nil
	}
	if err := c.RevokeToken(ctx, tok.Value); err != nil {
		return fmt.Errorf("revoking the token: %w", err)
	}
	fmt.Fprintln(out, "\nToken revoked: it was only for this run (-store FILE keeps one and reuses it).")
	return nil
}

package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/oauth"
)

// errNoAccount is what the account commands say without credentials.
var errNoAccount = msgErr("noAccount", envEmail, envAPIKey)

// account builds the OAuth client the environment describes;
// OPENAPI_OAUTH_URL wins over --sandbox.
func (a *app) account(v1 bool) (*oauth.Client, error) {
	email, key := strings.TrimSpace(os.Getenv(envEmail)), strings.TrimSpace(os.Getenv(envAPIKey))
	if email == "" || key == "" {
		return nil, errNoAccount
	}
	var opts []oauth.Option
	if u := strings.TrimSpace(os.Getenv(envOAuthURL)); u != "" {
		opts = append(opts, oauth.WithBaseURL(u))
	}
	if a.sandbox {
		opts = append(opts, oauth.WithSandbox())
	}
	if v1 {
		opts = append(opts, oauth.WithV1())
	}
	c, err := oauth.NewClient(email, key, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s, %s or %s: %w", envEmail, envAPIKey, envOAuthURL, err)
	}
	return c, nil
}

// tokenView is a token in JSON. Token is the whole value only where the
// user asked to see it (create, list --reveal); elsewhere it is masked.
type tokenView struct {
	Token     string    `json:"token"`
	Name      string    `json:"name,omitempty"`
	Scopes    []string  `json:"scopes"`
	ExpiresAt time.Time `json:"expires_at"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

func newTokenView(t oauth.TokenInfo, reveal bool) tokenView {
	v := tokenView{Token: t.Token, Name: t.Name, Scopes: t.Scopes, ExpiresAt: t.ExpiresAt, CreatedAt: t.CreatedAt}
	if !reveal {
		v.Token = mask(t.Token)
	}
	if v.Scopes == nil {
		v.Scopes = []string{}
	}
	return v
}

// mask keeps the first characters of a token, enough to tell tokens apart,
// not enough to use one.
func mask(token string) string {
	if len(token) <= 12 {
		return strings.Repeat("•", len(token))
	}
	return token[:6] + "…"
}

func (a *app) tokenCommand() *cobra.Command {
	var v1 bool
	cmd := &cobra.Command{
		Use: "token",
		Long: `Manage the Openapi account's bearer tokens (OAuth v2, v1 with --v1), with the
account's e-mail and API key in OPENAPI_EMAIL and OPENAPI_APIKEY. --sandbox
works on the sandbox, whose tokens work on Visengine's sandbox.`,
		// Without these, cobra answers a mistyped subcommand ("token
		// revokee") with the help and exit status 0, so a script would
		// take it for success.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.PersistentFlags().BoolVar(&v1, "v1", false, "use the legacy OAuth v1 service")
	cmd.AddCommand(a.tokenCreateCommand(&v1), a.tokenListCommand(&v1), a.tokenRevokeCommand(&v1))
	return cmd
}

func (a *app) tokenCreateCommand(v1 *bool) *cobra.Command {
	var (
		asJSON, readOnly bool
		name             string
		ttl              time.Duration
		scopes           []string
	)
	cmd := &cobra.Command{
		Use: "create",
		Long: `Create a token for Visengine and print it on standard output, alone, so that
    export VISENGINE_TOKEN=$(visengine token create)
works. It gets every scope a client needs (read the catalogue, create, close
and read richieste, download documents), only the reading ones with
--read-only, or exactly those given with --scope.`,
		Args: exactArgs(0, "argsNone"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.account(*v1)
			if err != nil {
				return err
			}
			p := oauth.CreateTokenParams{Scopes: scopes, Name: name, TTL: ttl}
			switch {
			case len(p.Scopes) > 0:
			case readOnly:
				p.Scopes = oauth.VisengineReadOnlyScopes(c.Sandbox())
			default:
				p.Scopes = oauth.VisengineScopes(c.Sandbox())
			}
			if c.V1() {
				p.Name = "" // v1 tokens have no name
			}
			t, err := c.CreateToken(cmd.Context(), p)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(a.out, newTokenView(*t, true))
			}
			fmt.Fprintln(a.out, clean(t.Token))
			fmt.Fprintf(a.errOut, say(a.language(), "tokenCreated"), len(t.Scopes), when(t.ExpiresAt))
			return nil
		},
	}
	addJSON(cmd, &asJSON)
	fl := cmd.Flags()
	fl.StringVar(&name, "name", "visengine-cli", "label shown in the Openapi console (v2)")
	fl.DurationVar(&ttl, "ttl", oauth.DefaultTTL, "lifetime, e.g. 720h")
	fl.BoolVar(&readOnly, "read-only", false, "only the GET scopes: nothing can be bought with it")
	fl.StringSliceVar(&scopes, "scope", nil, `exact scopes, "METHOD:host/segment" (repeatable)`)
	return cmd
}

func (a *app) tokenListCommand(v1 *bool) *cobra.Command {
	var asJSON, reveal bool
	cmd := &cobra.Command{
		Use:  "list",
		Args: exactArgs(0, "argsNone"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.account(*v1)
			if err != nil {
				return err
			}
			list, err := c.ListTokens(cmd.Context())
			if err != nil {
				return err
			}
			views := make([]tokenView, len(list))
			for i, t := range list {
				views[i] = newTokenView(t, reveal)
			}
			if asJSON {
				return printJSON(a.out, views)
			}
			printTokens(a.out, views, a.language())
			return nil
		},
	}
	addJSON(cmd, &asJSON)
	cmd.Flags().BoolVar(&reveal, "reveal", false, "print the tokens' whole values")
	return cmd
}

func printTokens(w io.Writer, list []tokenView, lang visengine.Lang) {
	if len(list) == 0 {
		fmt.Fprintln(w, say(lang, "noTokens"))
		return
	}
	tw := table(w)
	fmt.Fprintln(tw, say(lang, "tokensHeader"))
	for _, t := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", clean(t.Token), clean(t.Name), when(t.ExpiresAt), len(t.Scopes))
	}
	tw.Flush()
}

func (a *app) tokenRevokeCommand(v1 *bool) *cobra.Command {
	return &cobra.Command{
		Use:  "revoke TOKEN",
		Args: exactArgs(1, "argsToken"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.account(*v1)
			if err != nil {
				return err
			}
			if err := c.RevokeToken(cmd.Context(), strings.TrimSpace(args[0])); err != nil {
				return err
			}
			fmt.Fprintf(a.out, say(a.language(), "revoked"), mask(args[0]))
			return nil
		},
	}
}

// walletView is wallet's JSON.
type walletView struct {
	Credit    visengine.Price `json:"credit"`
	UpdatedAt time.Time       `json:"updated_at,omitzero"`
}

func (a *app) walletCommand() *cobra.Command {
	var asJSON, v1 bool
	cmd := &cobra.Command{
		Use:  "wallet",
		Args: exactArgs(0, "argsNone"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.account(v1)
			if err != nil {
				return err
			}
			w, err := c.Wallet(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(a.out, walletView{Credit: w.Credit, UpdatedAt: w.UpdatedAt})
			}
			fmt.Fprintf(a.out, say(a.language(), "credit"), w.Credit)
			return nil
		},
	}
	addJSON(cmd, &asJSON)
	cmd.Flags().BoolVar(&v1, "v1", false, "use the legacy OAuth v1 service")
	return cmd
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/visengine-go/visengine"
)

// The environment variables the command reads.
const (
	envToken    = "VISENGINE_TOKEN"
	envURL      = "VISENGINE_URL"
	envEmail    = "OPENAPI_EMAIL"
	envAPIKey   = "OPENAPI_APIKEY"
	envOAuthURL = "OPENAPI_OAUTH_URL"
	envNoColor  = "NO_COLOR"
)

// app is one run of the command: its streams and global flags.
type app struct {
	out, errOut io.Writer
	in          io.Reader
	sandbox     bool
	lang        langValue // --lang; language() falls back to the locale
}

// userAgent names the command in front of the SDK's own User-Agent.
const userAgent = "visengine-cli/" + visengine.Version

// client builds the Visengine client the environment describes:
// VISENGINE_URL wins over --sandbox, so exporting the fake's two lines can
// never send its token to production. extra options come last.
func (a *app) client(extra ...visengine.Option) (*visengine.Client, error) {
	token := strings.TrimSpace(os.Getenv(envToken))
	url := strings.TrimSpace(os.Getenv(envURL))
	if token == "" {
		return nil, errNoToken
	}
	if err := checkBaseURL(url); err != nil {
		return nil, err
	}
	opts := []visengine.Option{visengine.WithUserAgent(userAgent)}
	switch {
	case url != "":
		opts = append(opts, visengine.WithBaseURL(url))
	case a.sandbox:
		opts = append(opts, visengine.WithSandbox())
	}
	c, err := visengine.NewClient(token, append(opts, extra...)...)
	if err != nil {
		who := envToken // the token, unless the URL is what was refused
		if strings.Contains(err.Error(), "base URL") {
			who = envURL
		}
		return nil, msgErr("flagErr", who, err)
	}
	return c, nil
}

// isTerminal reports whether f is an interactive terminal. A character
// device is not enough (/dev/null is one); x/term asks the terminal driver.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// colour reports whether to colour what goes to w: on a terminal, unless
// NO_COLOR is set (https://no-color.org) or the terminal is dumb.
func colour(w io.Writer) bool { return wantColour(isTerminal(w), os.Getenv) }

// wantColour decides colour for a terminal (tty) and an environment.
func wantColour(tty bool, getenv func(string) string) bool {
	return tty && getenv(envNoColor) == "" && getenv("TERM") != "dumb"
}

// ANSI styles used, sparingly: state words and headings.
const (
	styleBold  = "1"
	styleRed   = "31"
	styleGreen = "32"
	styleAmber = "33"
)

// paint wraps s in an ANSI style when colour is on for w.
func paint(w io.Writer, style, s string) string {
	if !colour(w) {
		return s
	}
	return "\x1b[" + style + "m" + s + "\x1b[0m"
}

// table returns a writer that aligns tab-separated columns; Flush it.
func table(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// printJSON writes v as indented JSON, with no HTML escaping, so that
// names such as "D`IDENTITÀ" stay readable, but with control and bidi
// characters escaped (escapeJSON): the JSON may be read on a terminal.
func printJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(escapeJSON(buf.Bytes()))
	return err
}

// addJSON gives cmd the --json flag.
func addJSON(cmd *cobra.Command, p *bool) {
	cmd.Flags().BoolVar(p, "json", false, "print JSON for programs instead of text")
}

// exactArgs requires n arguments (described by the cliText code names); another count is a usage error.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return &usageError{cmd: cmd.CommandPath(),
				err: msgErr("argCount", cmd.Name(), textKey(names), len(args))}
		}
		return nil
	}
}

// fieldLabel names a field as users see it, with its key: "CELLULARE" ($3).
func fieldLabel(name, key string) string {
	switch {
	case key == "":
		return "the rule"
	case key == "?":
		return "a key that is not $N"
	case name == "":
		return clean(key)
	}
	return fmt.Sprintf("%q (%s)", clean(name), clean(key))
}

// errDeclined ends a submission the user did not confirm.
var errDeclined = &codeError{code: exitNo, err: msgErr("declined")}

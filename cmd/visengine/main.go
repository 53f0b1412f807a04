// Command visengine uses Openapi's Visengine 2.0 from a terminal or a shell
// script: browse the catalogue, read a service's fields, rule and price,
// check an applicant locally before paying, submit once, follow the
// richiesta and download its document.
//
// Install it with
//
//	go install github.com/visengine-go/visengine/cmd/visengine@latest
//
// and run "visengine help" for the commands, "visengine help COMMAND" for
// one of them. It reads its configuration from the environment:
//
//	VISENGINE_TOKEN   the bearer token (required by every Visengine command)
//	VISENGINE_URL     another server, such as "visengine fake"; wins over --sandbox
//	OPENAPI_EMAIL     the Openapi account's e-mail, for "token" and "wallet"
//	OPENAPI_APIKEY    the Openapi account's API key, for "token" and "wallet"
//	OPENAPI_OAUTH_URL another OAuth service, such as the fake's; wins over --sandbox
//	VISENGINE_JOURNAL the submission journal's folder (default: visengine/journal
//	                  in $XDG_STATE_HOME, or the OS's state folder)
//	NO_COLOR          no colour even on a terminal
//	LC_ALL, LANG      the messages' language: Italian (it_IT…) or English, the
//	                  default; --lang it|en wins
//
// "visengine submit" records each step in the journal before taking it, so
// that "visengine recover" can finish or report a submission that a crash,
// a kill or a lost answer left behind; "visengine resume ID" finishes one.
//
// Exit status: 0 success; 1 the answer is "no" (an invalid applicant,
// a submission declined at the prompt, a richiesta cancelled or whose search
// failed); 2 usage or any other error; 3 a paid call whose outcome is unknown
// (it may have been charged: do not submit again; "visengine resume ID").
//
// It is built only on the SDK's public packages (visengine, visenginetest,
// oauth), so everything it does, a program can do too.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/visengine-go/visengine"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Stdin)
	stop()
	os.Exit(report(os.Stderr, err, langOfArgs(os.Args[1:], os.Getenv)))
}

// run executes one command line; main calls it with the process's streams,
// tests with their own.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, stdin io.Reader) error {
	a := &app{out: stdout, errOut: stderr, in: stdin}
	root := a.rootCommand()
	localizeHelp(root, langOfArgs(args, os.Getenv)) // --lang, not parsed yet
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	return a.explainUnauthorized(ctx, root.ExecuteContext(ctx))
}

// Exit statuses; see the package doc.
const (
	exitOK      = 0
	exitNo      = 1
	exitError   = 2
	exitUnknown = 3
)

// codeError ends the command with code. A nil err prints nothing more: the
// command has said all there is to say (validate's problems, for example).
type codeError struct {
	code int
	err  error
}

func (e *codeError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *codeError) Unwrap() error { return e.err }

// usageError marks a mistake in the command line; it names the help to read.
type usageError struct {
	cmd string
	err error
}

func (e *usageError) Error() string {
	return fmt.Sprintf(say(visengine.English, "seeHelp"), e.err, e.cmd)
}

func (e *usageError) Unwrap() error { return e.err }

// exitCode maps an error to the process's exit status.
func exitCode(err error) int {
	var ce *codeError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ce):
		return ce.code
	case errors.Is(err, visengine.ErrOutcomeUnknown):
		return exitUnknown
	default:
		return exitError
	}
}

// report prints err, if it has something to say, as one line on w and
// returns the exit status. The line is in lang where the message tables
// know the error (cliText, the SDK's ValidationError), else in English.
func report(w io.Writer, err error, lang visengine.Lang) int {
	code := exitCode(err)
	var ce *codeError
	if err != nil && !(errors.As(err, &ce) && ce.err == nil) {
		fmt.Fprintln(w, "visengine: "+oneLineIn(err, lang))
	}
	return code
}

// oneLine renders err on one line without the repeated "visengine: "
// prefixes of wrapped SDK errors, and adds what to do for the errors whose
// remedy is always the same.
func oneLine(err error) string { return oneLineIn(err, visengine.English) }

// oneLineIn is oneLine in lang, for the errors the message tables know.
func oneLineIn(err error, lang visengine.Lang) string {
	if err == context.Canceled { // Ctrl-C while nothing was under way
		return say(lang, "interrupted")
	}
	s := clean(plainIn(err, lang))
	if strings.HasPrefix(s, "unknown command") {
		s += say(lang, "unknownCommand")
	}
	var te *tokenError
	if errors.Is(err, visengine.ErrUnauthorized) && !errors.As(err, &te) {
		s += say(lang, "unauthorized")
	}
	return s
}

// plainIn is err in lang when the tables know it, else its English text
// without the repeated "visengine: " prefixes of wrapped SDK errors.
func plainIn(err error, lang visengine.Lang) string {
	if s, ok := localized(err, lang); ok {
		return s
	}
	s := strings.TrimPrefix(err.Error(), "visengine: ")
	return strings.ReplaceAll(s, ": visengine: ", ": ")
}

// errNoToken is what every Visengine command says without a token.
var errNoToken = msgErr("noToken")

// rootCommand builds the command tree.
func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:  "visengine",
		Long: rootLong,
		// Errors are printed once, by report, on one line; usage only on -h.
		SilenceErrors:     true,
		SilenceUsage:      true,
		DisableAutoGenTag: true,
		Version:           visengine.Version,
	}
	root.PersistentFlags().BoolVar(&a.sandbox, "sandbox", false, "use the sandbox (a sandbox token); VISENGINE_URL wins")
	root.PersistentFlags().Var(&a.lang, "lang", "language of messages, it or en (default: from LC_ALL, LC_MESSAGES or LANG; else en)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		if strings.HasPrefix(err.Error(), "unknown flag") || strings.HasPrefix(err.Error(), "unknown shorthand flag") {
			err = fmt.Errorf("%w; %s takes %s", err, c.CommandPath(), flagNames(c))
		}
		return &usageError{cmd: c.CommandPath(), err: err}
	})
	root.AddCommand(
		a.catalogueCommand(), a.showCommand(), a.validateCommand(), a.submitCommand(),
		a.statusCommand(), a.listCommand(), a.waitCommand(), a.downloadCommand(),
		a.resumeCommand(), a.recoverCommand(),
		a.fakeCommand(), a.tokenCommand(), a.walletCommand(), a.auditCommand(),
	)
	localizeHelp(root, a.language()) // Long: rootLong and jsonCommands
	return root
}

// flagNames lists the options c offers, for a mistyped one.
func flagNames(c *cobra.Command) string {
	var names []string
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden && f.Name != "help" {
			names = append(names, "--"+f.Name)
		}
	})
	c.InheritedFlags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden && f.Name != "help" && !slices.Contains(names, "--"+f.Name) {
			names = append(names, "--"+f.Name)
		}
	})
	if len(names) == 0 {
		return "no options"
	}
	return strings.Join(names, ", ")
}

// jsonCommands names the commands that take --json, as the README says
// the help does, from the commands themselves so the list stays true.
func jsonCommands(root *cobra.Command, lang visengine.Lang) string {
	var names []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Flags().Lookup("json") != nil {
				names = append(names, strings.TrimPrefix(sub.CommandPath(), root.Name()+" "))
			}
			walk(sub)
		}
	}
	walk(root)
	return wrap(fmt.Sprintf(say(lang, "jsonCommands"), strings.Join(names, ", ")), 80)
}

// wrap breaks s into lines of at most width characters, at spaces.
func wrap(s string, width int) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Fields(s) {
		if i > 0 && n+1+len(w) > width {
			b.WriteByte('\n')
			n = 0
		} else if i > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}

const rootLong = `visengine uses Openapi's Visengine 2.0 from a terminal or a script: browse the
catalogue, read a service's fields, rule and price, check an applicant locally
before paying, submit once, follow the richiesta and download its document.

Environment:
  VISENGINE_TOKEN    the bearer token (every Visengine command needs it)
  VISENGINE_URL      another server, such as 'visengine fake'; wins over --sandbox
  OPENAPI_EMAIL      the Openapi account's e-mail, for 'token', 'wallet', 'audit'
  OPENAPI_APIKEY     the Openapi account's API key, for 'token', 'wallet', 'audit'
  OPENAPI_OAUTH_URL  another OAuth service; wins over --sandbox
  VISENGINE_JOURNAL  the submission journal's folder (default: visengine/journal
                     in $XDG_STATE_HOME, or the OS's state folder)
  NO_COLOR           no colour, even on a terminal
  LC_ALL, LANG       the messages' language, Italian or English (--lang wins)

No account yet? 'visengine fake' serves a fake Visengine on this machine and
prints the variables to export.

Exit status: 0 success; 1 the answer is "no" (invalid applicant, declined,
cancelled); 2 usage or other error; 3 a paid call's outcome is unknown (it may
have been charged: do not submit again; 'visengine resume ID' finishes it).`

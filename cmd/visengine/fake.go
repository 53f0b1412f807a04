package main

import (
	"flag"

	"github.com/spf13/cobra"

	"github.com/visengine-go/visengine/cmd/internal/fakeserve"
)

func (a *app) fakeCommand() *cobra.Command {
	var c fakeserve.Config
	cmd := &cobra.Command{
		Use: "fake",
		Long: `Serve the fake Visengine of the SDK's visenginetest package until interrupted:
the real catalogue of 92 services, drafts, charges against a fake wallet,
progress, search results, callbacks and a real zip, and Openapi's OAuth service
for its account. It prints the variables to export, as lines to eval in
another shell; every command then talks to it, "token" and "wallet" included.
cmd/visengine-fake is the same server as a command of its own.

It listens on loopback only unless --allow-remote is given: it has no real
security. Richieste advance one state every --progress (0: never).

` + fakeserve.FlagHelp,
		Args: exactArgs(0, "argsNone"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return fakeserve.Serve(cmd.Context(), c, a.out, a.errOut, "visengine fake")
		},
	}
	fs := flag.NewFlagSet("fake", flag.ContinueOnError)
	c.Flags(fs)
	cmd.Flags().AddGoFlagSet(fs)
	return cmd
}

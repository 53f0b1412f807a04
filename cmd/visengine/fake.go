package main

import (
	"fmt"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/visenginetest"
)

type fakeFlags struct {
	addr, token, wallet string
	progress            time.Duration
	allowRemote         bool
}

func (a *app) fakeCommand() *cobra.Command {
	var f fakeFlags
	cmd := &cobra.Command{
		Use:   "fake",
		Short: "Serve a fake Visengine on this machine, to try everything for free",
		Long: `Serve the fake Visengine of the SDK's visenginetest package until interrupted:
the real catalogue of 92 services, drafts, charges against a fake wallet,
progress, search results, callbacks and a real zip, and Openapi's OAuth service
for its account. It prints the variables to export in another shell; every
command then talks to it, "token" and "wallet" included.

It listens on loopback only unless --allow-remote is given: it has no real
security. Richieste advance one state every --progress (0: never).`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			wallet, err := visengine.ParsePrice(f.wallet)
			if err != nil {
				return &usageError{cmd: cmd.CommandPath(), err: fmt.Errorf("--wallet: %w", err)}
			}
			ln, err := listenLoopback(f.addr, f.allowRemote)
			if err != nil {
				return err
			}
			opts := []visenginetest.Option{visenginetest.WithWallet(wallet), visenginetest.WithAutoAdvance(f.progress)}
			if f.token != "" {
				opts = append(opts, visenginetest.WithToken(f.token))
			}
			srv := visenginetest.NewUnstartedServer(opts...)
			srv.Listener.Close()
			srv.Listener = ln
			srv.Start()
			defer srv.Close()
			fmt.Fprintf(a.errOut, "visengine fake: a fake Visengine at %s, wallet %s; nothing real is charged.\n", srv.URL, wallet)
			fmt.Fprintln(a.errOut, "Export these in another shell (VISENGINE_URL and OPENAPI_OAUTH_URL make the token and the key go to this server only); Ctrl-C stops it:")
			fmt.Fprintf(a.out, "export %s=%s\nexport %s=%s\n", envURL, srv.URL, envToken, srv.Token)
			// Its Openapi account, for token and wallet (v2; --v1 needs OAuthV1URL).
			fmt.Fprintf(a.out, "export %s=%s\nexport %s=%s\nexport %s=%s\n",
				envOAuthURL, srv.OAuthURL, envEmail, srv.Email, envAPIKey, srv.APIKey)
			<-cmd.Context().Done()
			fmt.Fprintln(a.errOut, "visengine fake: shutting down")
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fl.StringVar(&f.token, "token", "", "bearer token to accept (default: random)")
	fl.StringVar(&f.wallet, "wallet", "1000", "wallet balance in euro, e.g. 182.03")
	fl.DurationVar(&f.progress, "progress", 2*time.Second, "advance richieste one state per this step (0: never)")
	fl.BoolVar(&f.allowRemote, "allow-remote", false, "allow listening on a non-loopback address")
	return cmd
}

// listenLoopback opens addr, refusing a non-loopback host unless allowed.
func listenLoopback(addr string, allowRemote bool) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--addr: %w", err)
	}
	ip := net.ParseIP(host)
	if loopback := host == "localhost" || (ip != nil && ip.IsLoopback()); !loopback && !allowRemote {
		return nil, fmt.Errorf("--addr %s is not a loopback address; pass --allow-remote to listen on it", addr)
	}
	return net.Listen("tcp", addr)
}

package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/visengine-go/visengine"
)

// Shell completion (visengine completion bash|zsh|fish|powershell) comes
// with cobra; these complete the arguments from the account itself: the
// catalogue's hashes and the richieste's IDs, each with its name. Without
// a token they complete nothing.

// completeHash completes a service HASH first, then APPLICANT.json files.
func (a *app) completeHash(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
	if len(args) == 1 && cmd.Name() != "show" {
		return []string{"json"}, cobra.ShellCompDirectiveFilterFileExt
	}
	c, err := a.client()
	if len(args) > 0 || err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	list, err := c.ListVisure(cmd.Context())
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, s := range list {
		if strings.HasPrefix(s.HashVisura, prefix) {
			out = append(out, s.HashVisura+"\t"+clean(s.NomeVisura))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeID completes a richiesta ID.
func (a *app) completeID(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
	c, err := a.client()
	if len(args) > 0 || err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	list, _ := c.ListRichieste(cmd.Context())
	var out []string
	for _, r := range list {
		if strings.HasPrefix(r.ID, prefix) {
			out = append(out, r.ID+"\t"+clean(r.Nome)+", "+clean(string(r.StatoRichiesta)))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeOpzioni completes --opzioni from the options of the service named
// by the HASH argument: each option's tipo, with its nome and price. The
// flag takes a comma-separated list, so the options already typed are kept
// before the one being completed.
func (a *app) completeOpzioni(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	c, err := a.client()
	if len(args) == 0 || err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	v, err := c.GetVisura(cmd.Context(), args[0])
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	done, prefix := "", toComplete
	if i := strings.LastIndexByte(toComplete, ','); i >= 0 {
		done, prefix = toComplete[:i+1], toComplete[i+1:]
	}
	var out []string
	for _, o := range v.Opzioni {
		name := clean(o.Tipo)
		if name == "" {
			name = clean(o.Nome)
		}
		if strings.HasPrefix(name, prefix) && !strings.Contains(","+done, ","+name+",") {
			out = append(out, done+name+"\t"+clean(o.Nome)+", "+o.Prezzo.String())
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// offered lists a service's options as --opzioni takes them, for an error
// about one it does not offer (a sentence of cliText, rendered in the
// error's language).
func offered(v *visengine.Visura) error {
	if len(v.Opzioni) == 0 {
		return msgErr("offersNone")
	}
	var names []string
	for _, o := range v.Opzioni {
		names = append(names, fmt.Sprintf("%s (%s, %s)", clean(o.Tipo), clean(o.Nome), o.Prezzo))
	}
	return msgErr("offers", strings.Join(names, ", "))
}

// checkOpzioni returns names, or refuses an option the service does not
// offer, listing the ones it does: a mistyped option must not read as a
// server error.
func checkOpzioni(v *visengine.Visura, names []string) ([]string, error) {
	for _, n := range names {
		if _, ok := v.Opzione(n); !ok {
			return nil, msgErr("notOption", clean(n), clean(v.NomeVisura), offered(v))
		}
	}
	return names, nil
}

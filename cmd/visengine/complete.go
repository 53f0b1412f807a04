package main

import (
	"strings"

	"github.com/spf13/cobra"
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

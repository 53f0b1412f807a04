package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/visengine-go/visengine"
)

func (a *app) validateCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use: "validate HASH APPLICANT.json",
		Long: `Check an applicant against a service, locally and for free: the service's rule
over the filled fields, and the form of every filled field (codice fiscale and
its check character, e-mail, dates, files…). Every problem is listed by field
name and reason, never with the value.

APPLICANT.json is a JSON object keyed by field key ("$4") or by the field's name
as the service spells it ("CODICE FISCALE", in any case), with string values.
A file field's value "@path/to/scan.pdf" is read from that file, relative to
the JSON file's folder; its MIME type is taken from its content:

  {"Nome": "Mario", "Cognome": "Rossi", "CODICE FISCALE": "RSSMRA85M01H501Q",
   "COPIA DOCUMENTO D` + "`" + `IDENTITÀ FRONTE RETRO": "@documento.pdf"}

Exit status: 0 valid, 1 invalid, 2 usage or other error (bad JSON, an unknown
field, a missing file). --json prints the list of problems ([] when valid).`,
		Args:              exactArgs(2, "argsHashApplicant"),
		ValidArgsFunction: a.completeHash,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			v, values, err := loadApplicant(cmd.Context(), c, args[0], args[1])
			if err != nil {
				return err
			}
			lang := a.language()
			if asJSON {
				lang = visengine.English // JSON's reasons stay the documented English
			}
			problems, err := check(v, values, lang)
			if err != nil {
				return err
			}
			if asJSON {
				err = printJSON(a.out, problems)
			} else {
				printVerdict(a.out, a.errOut, v, problems, lang)
			}
			if err == nil && len(problems) > 0 {
				return &codeError{code: exitNo}
			}
			return err
		},
	}
	addJSON(cmd, &asJSON)
	return cmd
}

// loadApplicant reads the service and the applicant's values for it.
func loadApplicant(ctx context.Context, c *visengine.Client, hash, path string) (*visengine.Visura, visengine.Values, error) {
	v, err := c.GetVisura(ctx, hash)
	if err != nil {
		return nil, nil, err
	}
	values, err := readApplicant(path, v)
	return v, values, err
}

// check validates values and returns the problems with their reasons in
// lang, [] when there are none.
func check(v *visengine.Visura, values visengine.Values, lang visengine.Lang) ([]visengine.Problem, error) {
	err := v.Validate(values)
	var ve *visengine.ValidationError
	switch {
	case err == nil:
		return []visengine.Problem{}, nil
	case errors.As(err, &ve):
		return ve.ProblemsIn(lang), nil
	}
	return nil, err
}

// printVerdict says whether the applicant is valid, and if not, why.
func printVerdict(out, errOut io.Writer, v *visengine.Visura, problems []visengine.Problem, lang visengine.Lang) {
	if _, err := v.Rule(); err != nil {
		fmt.Fprintln(errOut, say(lang, "ruleNote"))
	}
	if len(problems) == 0 {
		fmt.Fprintf(out, say(lang, "validText"), paint(out, styleGreen, say(lang, "valid")), clean(v.NomeVisura))
		return
	}
	fmt.Fprintf(out, say(lang, "invalidText"), paint(out, styleRed, say(lang, "invalid")), len(problems))
	printProblems(out, problems)
}

// printProblems lists problems as a table: field, code, reason.
func printProblems(w io.Writer, problems []visengine.Problem) {
	tw := table(w)
	for _, p := range problems {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", fieldLabel(p.Name, p.Key), p.Code, clean(p.Reason))
	}
	tw.Flush()
}

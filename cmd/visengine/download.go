package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/visengine-go/visengine"
)

// downloadView is download's JSON.
type downloadView struct {
	ID          string     `json:"id"`
	Path        string     `json:"path"`
	Nome        string     `json:"nome"`       // the name the server gave the zip
	Dimensione  int64      `json:"dimensione"` // bytes
	ExtractedTo string     `json:"extracted_to,omitempty"`
	Files       []fileView `json:"files,omitempty"`
}

type fileView struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
}

func (a *app) downloadCommand() *cobra.Command {
	var (
		asJSON        bool
		output, dir   string
		defaultOutput = "ID.zip"
	)
	cmd := &cobra.Command{
		Use: "download ID",
		Long: `Save the document of a richiesta, a zip, to ID.zip or to -o FILE ("-o -" writes
it to standard output). The file appears only once the whole document arrived
and matched its declared size. --extract DIR then checks the archive (no paths
outside DIR, no links, no bombs) and extracts it there, never overwriting.
A progress bar is shown when standard error is a terminal.`,
		Args:              exactArgs(1, "argsID"),
		ValidArgsFunction: a.completeID,
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			if output == defaultOutput {
				output = id + ".zip"
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			if output == "-" {
				return a.downloadToStdout(cmd.Context(), c, id, dir)
			}
			view, err := a.download(cmd.Context(), c, id, output, dir)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(a.out, view)
			}
			printDownload(a.out, view, a.language())
			return nil
		},
	}
	addJSON(cmd, &asJSON)
	cmd.Flags().StringVarP(&output, "output", "o", defaultOutput, `file to save the zip to, "-" for standard output`)
	cmd.Flags().StringVar(&dir, "extract", "", "also extract the zip into this folder")
	return cmd
}

func (a *app) download(ctx context.Context, c *visengine.Client, id, path, dir string) (downloadView, error) {
	var opts []visengine.DownloadOption
	bar := newProgressBar(a.errOut, a.language())
	if bar != nil {
		opts = append(opts, visengine.WithDownloadProgress(bar.update))
	}
	info, err := c.DownloadToFile(ctx, id, path, opts...)
	bar.finish()
	if err != nil {
		return downloadView{}, err
	}
	view := downloadView{ID: id, Path: path, Nome: info.Nome, Dimensione: info.Dimensione}
	if dir == "" {
		return view, nil
	}
	z, err := visengine.OpenZipFile(path)
	if err != nil {
		return view, msgErr("notExtracted", path, err)
	}
	defer z.Close()
	if err := z.ExtractTo(dir); err != nil {
		return view, msgErr("notExtracted", path, err)
	}
	view.ExtractedTo = dir
	for _, f := range z.Files() {
		view.Files = append(view.Files, fileView{Name: f.Name, Size: f.Size})
	}
	return view, nil
}

// downloadToStdout streams the zip to standard output, for pipes.
func (a *app) downloadToStdout(ctx context.Context, c *visengine.Client, id, dir string) error {
	switch {
	case dir != "":
		return &usageError{cmd: "visengine download", err: msgErr("extractStdout")}
	case isTerminal(a.out):
		return &usageError{cmd: "visengine download", err: msgErr("zipTerminal")}
	}
	_, err := c.DownloadDocumento(ctx, id, a.out)
	var pe *visengine.PartialDownloadError
	if errors.As(err, &pe) {
		return msgErr("partialStdout", err, pe.Written)
	}
	return err
}

func printDownload(w io.Writer, v downloadView, lang visengine.Lang) {
	fmt.Fprintf(w, say(lang, "saved"), v.Path, v.Dimensione)
	if v.ExtractedTo == "" {
		return
	}
	fmt.Fprintf(w, say(lang, "extractedInto"), v.ExtractedTo)
	tw := table(w)
	for _, f := range v.Files {
		fmt.Fprintf(tw, say(lang, "fileBytes"), clean(f.Name), f.Size)
	}
	tw.Flush()
}

// progressBar draws a download's progress on a terminal, on one line.
type progressBar struct {
	w     io.Writer
	last  int // last percentage drawn, -1 before the first
	drawn bool
	lang  visengine.Lang
}

// newProgressBar returns a bar drawing on w, or nil when w is not a
// terminal (nil's methods do nothing).
func newProgressBar(w io.Writer, lang visengine.Lang) *progressBar {
	if !isTerminal(w) {
		return nil
	}
	return &progressBar{w: w, last: -1, lang: lang}
}

const barWidth = 30

func (b *progressBar) update(done, total int64) {
	if total <= 0 {
		fmt.Fprintf(b.w, say(b.lang, "barBytes"), done)
		b.drawn = true
		return
	}
	pct := int(min(done*100/total, 100))
	if pct == b.last {
		return
	}
	b.last, b.drawn = pct, true
	n := pct * barWidth / 100
	fmt.Fprintf(b.w, say(b.lang, "barPercent"), strings.Repeat("#", n), strings.Repeat("-", barWidth-n), pct, done, total)
}

// finish ends the bar's line.
func (b *progressBar) finish() {
	if b != nil && b.drawn {
		fmt.Fprintln(b.w)
	}
}

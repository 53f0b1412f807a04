package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/visengine-go/visengine"
)

// submitBatch is submit --batch: every DIR/*.json, each under its file
// name as idempotency key, with at most f.concurrency at once.
func (a *app) submitBatch(ctx context.Context, hash string, f submitFlags) error {
	items, err := listBatch(f.batch)
	if err != nil {
		return err
	}
	// One journal for the whole batch: it keeps each key's submission, so
	// that a run killed half-way and run again pays nobody twice.
	j, err := a.openJournal(ctx)
	if err != nil {
		return err
	}
	defer j.Close()
	opts := []visengine.Option{visengine.WithJournal(j), visengine.WithCloseSettle(visengine.DefaultCloseSettle),
		visengine.WithHTTPClient(countingClient(f.concurrency))}
	if f.rate > 0 {
		// A burst as large as the concurrency lets each worker start at once.
		opts = append(opts, visengine.WithRateLimit(f.rate, f.concurrency))
	}
	c, err := a.client(opts...)
	if err != nil {
		return err
	}
	b, err := a.newBatch(ctx, c, hash, f)
	if err != nil {
		return err
	}
	b.j = j
	results, err := openResults(f.results) // once the batch is known good: it empties the file
	if err != nil {
		return err
	}
	defer results.Close()
	rep := &batchReport{a: a, asJSON: f.asJSON, results: results, bar: isTerminal(a.errOut),
		total: len(items), counts: map[string]int{}}
	rep.drawBar()
	b.run(ctx, items, f.concurrency, rep)
	rep.summary()
	if err := results.Close(); err != nil && rep.err == nil {
		rep.err = fmt.Errorf("--results: %w", err)
	}
	return rep.exit(ctx)
}

// newBatch reads the service and prices the options every applicant gets.
func (a *app) newBatch(ctx context.Context, c *visengine.Client, hash string, f submitFlags) (*batch, error) {
	v, err := c.GetVisura(ctx, hash)
	if err != nil {
		return nil, err
	}
	opts, total, err := a.pricedOptions(v, &f)
	if err != nil {
		return nil, err
	}
	return &batch{c: c, v: v, opts: opts, total: total, lang: a.language()}, nil
}

// batchReport prints each applicant's result as it comes (stdout: the
// results; stderr: what happened, and a progress bar on a terminal) and
// counts the outcomes.
type batchReport struct {
	a       *app
	asJSON  bool
	results *resultsFile
	bar     bool // draw a progress bar on stderr, a terminal

	total, done int
	counts      map[string]int
	charged     visengine.Price // what this run paid
	err         error           // the first error writing --results
}

func (r *batchReport) add(res batchResult) {
	r.clearBar()
	r.done++
	r.counts[res.Outcome]++
	if res.Outcome == outcomePaid && res.Price != nil {
		r.charged = r.charged.Add(*res.Price)
	}
	if err := r.results.write(res); err != nil && r.err == nil {
		r.err = err
	}
	switch {
	case r.asJSON:
		_ = writeJSONLine(r.a.out, res)
	case res.Outcome == outcomePaid || res.Outcome == outcomeAlreadyPaid:
		fmt.Fprintf(r.a.out, "%s\t%s\n", clean(res.Key), res.ID)
	}
	fmt.Fprintln(r.a.errOut, batchMessage(r.a.errOut, res, r.a.language()))
	if len(res.problems) > 0 {
		printProblems(r.a.errOut, res.problems)
	}
	r.drawBar()
}

// interrupted says that the batch stops after the applicants in flight.
func (r *batchReport) interrupted() {
	r.clearBar()
	fmt.Fprintf(r.a.errOut, say(r.a.language(), "batchInterrupted"), interruptGrace)
	r.drawBar()
}

// batchMessage says on one line what happened to one applicant.
func batchMessage(w io.Writer, res batchResult, lang visengine.Lang) string {
	key := clean(res.Key)
	switch res.Outcome {
	case outcomePaid:
		msg := fmt.Sprintf(say(lang, "batchPaid"), key, paint(w, styleGreen, say(lang, "outcome."+res.Outcome)), res.ID, res.Price)
		if res.Error != "" {
			msg += " (" + res.message(lang) + ")"
		}
		return msg
	case outcomeAlreadyPaid:
		msg := fmt.Sprintf(say(lang, "batchAlreadyPaid"), key, paint(w, styleGreen, say(lang, "outcome."+res.Outcome)), res.ID)
		if res.Error != "" {
			msg += " (" + res.message(lang) + ")"
		}
		return msg
	case outcomeInvalid:
		return fmt.Sprintf(say(lang, "batchInvalid"), key, paint(w, styleAmber, say(lang, "outcome."+res.Outcome)), res.message(lang))
	case outcomeUnknown:
		return fmt.Sprintf("%s: %s: %s", key, paint(w, styleRed, say(lang, "outcome."+res.Outcome)), res.message(lang))
	case outcomeSkipped:
		return fmt.Sprintf("%s: %s: %s", key, paint(w, styleAmber, say(lang, "outcome."+res.Outcome)), res.message(lang))
	}
	word := say(lang, "outcome."+res.Outcome)
	if word == "" {
		word = strings.ReplaceAll(res.Outcome, "_", " ")
	}
	return fmt.Sprintf("%s: %s: %s", key, paint(w, styleAmber, word), res.message(lang))
}

// renderBar draws done of total as "[#####-----] 12/40", as wide as a
// download's bar.
func renderBar(done, total int) string {
	filled := 0
	if total > 0 {
		filled = min(barWidth, done*barWidth/total)
	}
	return fmt.Sprintf("[%s%s] %d/%d", strings.Repeat("#", filled), strings.Repeat("-", barWidth-filled), done, total)
}

func (r *batchReport) drawBar() {
	if r.bar && r.done < r.total {
		fmt.Fprintf(r.a.errOut, say(r.a.language(), "batchBar"), renderBar(r.done, r.total),
			r.counts[outcomePaid], r.counts[outcomeAlreadyPaid])
	}
}

// clearBar erases the bar's line, for a message to take its place.
func (r *batchReport) clearBar() {
	if r.bar {
		fmt.Fprint(r.a.errOut, "\r\x1b[K")
	}
}

// summaryOrder lists the outcomes in the order the summary gives them.
// (their counts are cliText's "count."+outcome).
var summaryOrder = []string{
	outcomeAlreadyPaid, outcomeInvalid, outcomeKeyReused, outcomeRefused, outcomeFailed,
	outcomeUnknown, outcomeSkipped,
}

// summary says what the batch did, and what to do next.
func (r *batchReport) summary() {
	lang := r.a.language()
	parts := []string{fmt.Sprintf(say(lang, "batchPaidNow"), r.counts[outcomePaid], r.charged)}
	for _, outcome := range summaryOrder {
		if n := r.counts[outcome]; n > 0 {
			parts = append(parts, fmt.Sprintf(say(lang, "count."+outcome), n))
		}
	}
	w := r.a.errOut
	fmt.Fprintf(w, say(lang, "batchOf"), r.total, strings.Join(parts, ", "))
	if r.counts[outcomeUnknown] > 0 {
		fmt.Fprintln(w, say(lang, "batchUnknownHint"))
	}
	if r.notPaid() > r.counts[outcomeUnknown] {
		fmt.Fprintln(w, say(lang, "batchFixHint"))
	}
}

// notPaid counts the applicants neither paid now nor earlier.
func (r *batchReport) notPaid() int {
	return r.done - r.counts[outcomePaid] - r.counts[outcomeAlreadyPaid]
}

// exit is the batch's exit status: 3 when some outcome is unknown, 1 when
// some applicant was not paid, 0 when all were paid, now or earlier.
func (r *batchReport) exit(ctx context.Context) error {
	switch {
	case r.counts[outcomeUnknown] > 0:
		return &codeError{code: exitUnknown, err: r.err}
	case r.err != nil:
		return r.err
	case r.notPaid() > 0 && ctx.Err() != nil:
		return &codeError{code: exitNo, err: msgErr("batchSkipped")}
	case r.notPaid() > 0:
		return &codeError{code: exitNo}
	}
	return nil
}

package visengine

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"
)

// The types below hold personal data, document bytes or the callback
// secret, and print only a summary through their Format method. slog's JSON
// handler does not use Format: it marshals values as JSON, exported fields
// and all. Each type is therefore also a slog.LogValuer that logs the same
// summary, so slog.Info("submitted", "richiesta", r) stays safe.
//
// A LogValuer only works for the value handed to slog itself. A []Richiesta,
// a map[string]Values or a struct of the caller's holding a Richiesta is
// marshalled by the JSON handler field by field, without asking the
// elements; for those, log Redacted copies (Richiesta.Redacted,
// RichiestaSummary.Redacted, Values.Redacted). The text handler prints
// with %+v, which does use Format at every depth.

func summary(v any) slog.Value { return slog.StringValue(fmt.Sprint(v)) }

// redactedText stands for a value left out of a Redacted copy.
const redactedText = "[redacted]"

// LogValue logs the Format summary.
func (r Richiesta) LogValue() slog.Value { return summary(r) }

// LogValue logs the Format summary.
func (s RichiestaSummary) LogValue() slog.Value { return summary(s) }

// LogValue logs the Format summary.
func (r Ricerca) LogValue() slog.Value { return summary(r) }

// LogValue logs the Format summary.
func (p RichiestaParams) LogValue() slog.Value { return summary(p) }

// LogValue logs the Format summary.
func (p UpdateParams) LogValue() slog.Value { return summary(p) }

// LogValue logs the Format summary.
func (c Callback) LogValue() slog.Value { return summary(c) }

// LogValue logs the keys only.
func (vs Values) LogValue() slog.Value { return summary(vs) }

// LogValue logs the Format summary, without the bytes.
func (d Documento) LogValue() slog.Value { return summary(d) }

// Format prints the echo's summary and the server's message, cleaned, for
// every verb.
func (d DryRunResult) Format(f fmt.State, _ rune) {
	if d.Echo == nil {
		fmt.Fprintf(f, "visengine.DryRunResult{Echo:nil Message:%q}", cleanMessage(d.Message))
		return
	}
	fmt.Fprintf(f, "visengine.DryRunResult{Echo:%v Message:%q}", *d.Echo, cleanMessage(d.Message))
}

// LogValue logs the Format summary: the echo holds the applicant's values.
func (d DryRunResult) LogValue() slog.Value { return summary(d) }

// LogValue logs the Format summary: Richiesta holds the applicant's values
// and the callback secret, and Err may be an *APIError whose Message
// echoes the input.
func (r Resolution) LogValue() slog.Value { return summary(r) }

// LogValue logs the Format summary (the counts): each Resolution holds
// what Resolution.LogValue leaves out.
func (r RecoverReport) LogValue() slog.Value { return summary(r) }

// Format prints the provider's code only, for every verb: its info text
// may quote the searched values.
func (e Esito) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "visengine.Esito{Codice:%q Info:%d bytes}", e.Codice, len(e.Info))
}

// LogValue logs the Format summary.
func (e Esito) LogValue() slog.Value { return summary(e) }

// Format prints the result's keys, not their values, for every verb: a
// result may name a person and their codice fiscale.
func (r Risultato) Format(f fmt.State, _ rune) {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(f, "visengine.Risultato{%d keys: %s}", len(keys), strings.Join(keys, " "))
}

// LogValue logs the Format summary.
func (r Risultato) LogValue() slog.Value { return summary(r) }

// Redacted returns a copy of vs that is safe to log inside a collection:
// each key of the form "$N" is kept, with its value replaced by
// "[redacted]" (a blank value, which counts as not filled, stays ""); any
// other key, which may be a value put where a key goes, becomes "?1", "?2"…
// with its value redacted too. It returns nil for nil.
func (vs Values) Redacted() Values {
	if vs == nil {
		return nil
	}
	out := make(Values, len(vs))
	keys, hidden := splitKeys(vs)
	for _, k := range keys {
		out[k] = redactValue(vs[k])
	}
	for i, k := range hidden {
		out[fmt.Sprintf("?%d", i+1)] = redactValue(vs[k])
	}
	return out
}

func redactValue(v string) string {
	if strings.TrimSpace(v) == "" {
		return v
	}
	return redactedText
}

// splitKeys sorts vs's keys into those of the form "$N", which can be
// shown, and the others, which are hidden.
func splitKeys(vs Values) (shown, hidden []string) {
	for k := range vs {
		if looksLikeKey(k) {
			shown = append(shown, k)
		} else {
			hidden = append(hidden, k)
		}
	}
	sort.Strings(shown)
	sort.Strings(hidden)
	return shown, hidden
}

// Redacted returns a copy of r that is safe to log inside a collection (a
// []Richiesta, a struct of yours), where LogValue cannot act. It keeps the
// identifiers, the states and their times, the prices, the chosen Opzioni,
// IndiceRicerca, Sincrona, Esito.Codice, and each Ricerca's IDRicerca and
// StatoRicerca. It drops EmailTarget, Owner, MotivoAnnullamento,
// Esito.Info, every Ricerca's values and results (JSONRicerca,
// JSONMappato, JSONRisultato, Valori, Risultati), and CallbackData's Data
// (the secret) and its URL's userinfo and query. Allegati keeps its length,
// each name replaced by "[redacted]" (a file name may carry the applicant's
// name). It returns nil for nil.
func (r *Richiesta) Redacted() *Richiesta {
	if r == nil {
		return nil
	}
	out := *r
	out.EmailTarget, out.Owner, out.MotivoAnnullamento, out.Esito.Info = "", "", "", ""
	if r.IndiceRicerca != nil {
		n := *r.IndiceRicerca
		out.IndiceRicerca = &n
	}
	out.Opzioni = append([]Opzione(nil), r.Opzioni...)
	out.Allegati = nil
	for range r.Allegati {
		out.Allegati = append(out.Allegati, redactedText)
	}
	out.Ricerche = nil
	for _, s := range r.Ricerche {
		out.Ricerche = append(out.Ricerche, Ricerca{IDRicerca: s.IDRicerca, StatoRicerca: s.StatoRicerca})
	}
	if cb := r.CallbackData; cb != nil {
		out.CallbackData = &Callback{URL: redactURL(cb.URL), Method: cb.Method, Field: cb.Field}
	}
	return &out
}

// Redacted returns a copy of s that is safe to log inside a collection (the
// []RichiestaSummary of ListRichieste): EmailTarget and Owner are dropped,
// the rest is kept. It returns nil for nil.
func (s *RichiestaSummary) Redacted() *RichiestaSummary {
	if s == nil {
		return nil
	}
	out := *s
	out.EmailTarget, out.Owner = "", ""
	if s.IndiceRicerca != nil {
		n := *s.IndiceRicerca
		out.IndiceRicerca = &n
	}
	return &out
}

package visengine

import (
	"fmt"
	"log/slog"
)

// The types below hold personal data, document bytes or the callback
// secret, and print only a summary through their Format method. slog's JSON
// handler does not use Format: it marshals values as JSON, exported fields
// and all. Each type is therefore also a slog.LogValuer that logs the same
// summary, so slog.Info("submitted", "richiesta", r) stays safe.

func summary(v any) slog.Value { return slog.StringValue(fmt.Sprint(v)) }

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

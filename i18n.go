package visengine

import (
	"strings"
)

// Lang is a language the SDK's messages for applicants and operators are
// given in: problems ([Problem.Message], [ValidationError.ProblemsIn]), the
// rule's explanation ([Explanation.Describe]), the outcome of a submission
// ([SubmitOutcome.Message]) and a richiesta's progress ([Stato.Message]).
// Messages are data: one table per language, keyed by a stable code
// (a [ProblemCode], a [SubmitOutcome]); the English text is never the key.
type Lang string

// The languages messages exist in. Italian comes first: it is what an
// applicant at a CAF reads.
const (
	Italian Lang = "it"
	English Lang = "en"
)

// Langs lists the languages every message exists in.
func Langs() []Lang { return []Lang{Italian, English} }

// ParseLang reads a language tag or a POSIX locale ("it", "it-IT",
// "it_IT.UTF-8", "en_GB", "EN"): ok is false for any other language, and
// for "C" or "POSIX", so the caller chooses its default.
func ParseLang(s string) (lang Lang, ok bool) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "-_.@"); i >= 0 {
		s = s[:i]
	}
	switch strings.ToLower(s) {
	case "it":
		return Italian, true
	case "en":
		return English, true
	}
	return "", false
}

// String returns the language's tag ("it", "en").
func (l Lang) String() string { return string(l) }

// Known reports whether messages exist in l.
func (l Lang) Known() bool { return l == Italian || l == English }

// orDefault is l if known, else English, the language of Error strings.
func (l Lang) orDefault() Lang {
	if l.Known() {
		return l
	}
	return English
}

// text looks code up in the table of lang (English when lang is unknown),
// then in the English table; ok is false when neither has it.
func text[K ~string](tables map[Lang]map[K]string, lang Lang, code K) (string, bool) {
	if s, ok := tables[lang.orDefault()][code]; ok {
		return s, true
	}
	s, ok := tables[English][code]
	return s, ok
}

// fill replaces each {name} in msg by its value in args (pairs of name,
// value), once, so a value holding "{x}" is never expanded again.
func fill(msg string, args ...string) string {
	if len(args) == 0 {
		return msg
	}
	pairs := make([]string, len(args))
	for i := 0; i+1 < len(args); i += 2 {
		pairs[i], pairs[i+1] = "{"+args[i]+"}", args[i+1]
	}
	return strings.NewReplacer(pairs...).Replace(msg)
}

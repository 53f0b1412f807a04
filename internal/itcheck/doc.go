// Package itcheck holds the format checks for the Italian field types of
// Visengine documents (codice fiscale, partita IVA, codice comune, sigla
// provincia, dates, e-mail, inline files).
//
// Every check returns nil or one of the package's constant errors, each a
// *Reason whose Kind callers map to stable codes (KindOf), never matching on
// the text. The errors never contain the checked value: values are personal
// data and error strings end up in logs. The checks use byte loops and lookup tables rather than
// regular expressions, so they are fast, allocation-free (except Email) and
// cannot differ between regexp dialects.
package itcheck

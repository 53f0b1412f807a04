package itcheck

import (
	"slices"
	"testing"
)

// FuzzChecks feeds arbitrary bytes to every check: none may panic, and every
// reason is one of the package's constant errors, so it cannot carry the value.
func FuzzChecks(f *testing.F) {
	for _, s := range []string{"RSSMRA80A01H501U", "RSSMRAULALMHRLMD", "12345678903", "a@b.it", "H501", "RM",
		"29-02-2024", "2024-01-31", "a|data:text/plain;base64,aGVsbG8=", "", "\xc2\xa0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		errs := []error{CodiceFiscalePersona(s), CodiceFiscale(s), PartitaIVA(s), Email(s), CodComune(s),
			CodProvincia(s), Date(s), FileValue(s, 1<<20)}
		for _, err := range errs {
			if err != nil && !slices.Contains(allReasons, err) {
				t.Fatalf("reason %q is not a package constant", err)
			}
		}
	})
}

var allReasons = All()

// FuzzBase64 compares Base64 with encoding/base64.
func FuzzBase64(f *testing.F) {
	for _, s := range []string{"", "aGVsbG8=", "aA==", "====", "a===", "aGVs\nbG8=", "abcdefghABCDEFGH+/+/0123"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkAgainstStdlib(t, s) })
}

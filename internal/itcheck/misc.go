package itcheck

import (
	"net/mail"
	"time"
)

// Reasons returned by the other field checks.
var (
	ErrEmail        = reason(KindEmail, "e-mail must be a bare address such as name@example.it")
	ErrCodComune    = reason(KindFormat, "codice comune must be one letter and three digits, such as H501")
	ErrCodProvincia = reason(KindFormat, "sigla provincia must be two letters, such as RM")
	ErrDate         = reason(KindDate, "date must be a real calendar date written DD-MM-YYYY or YYYY-MM-DD")
)

// Email accepts a bare address only (no display name, no angle brackets, no
// surrounding blanks): what net/mail parses must be exactly the input.
func Email(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return ErrEmail
	}
	return nil
}

// CodComune checks the form of a Belfiore (cadastral) code: one letter and
// three digits; lower case is accepted as the PHP SDK does. It is not looked
// up in a list, which would go stale.
func CodComune(s string) error {
	if len(s) != 4 || !isLetter(upper(s[0])) || !isDigit(s[1]) || !isDigit(s[2]) || !isDigit(s[3]) {
		return ErrCodComune
	}
	return nil
}

// CodProvincia checks a province sigla: two ASCII letters. The list of sigle
// changes (Sardinia, 2025) and old sigle remain in records, so it is not
// enforced.
func CodProvincia(s string) error {
	if len(s) != 2 || !isLetter(upper(s[0])) || !isLetter(upper(s[1])) {
		return ErrCodProvincia
	}
	return nil
}

// Date accepts DD-MM-YYYY (what the PHP SDK checks) and YYYY-MM-DD (what the
// tipo name data_iso8601 says); time.Parse rejects impossible days such as
// 31-02-2024 and unpadded numbers.
func Date(s string) error {
	if len(s) != 10 {
		return ErrDate
	}
	layout := "02-01-2006"
	if s[4] == '-' {
		layout = "2006-01-02"
	}
	if _, err := time.Parse(layout, s); err != nil {
		return ErrDate
	}
	return nil
}

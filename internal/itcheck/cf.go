package itcheck

// Reasons returned by the codice fiscale and partita IVA checks. They describe
// the defect without repeating the value.
var (
	ErrCFLength     = reason(KindLength, "codice fiscale must be 16 characters")
	ErrCFCharset    = reason(KindFormat, "codice fiscale may contain only letters A-Z and digits 0-9")
	ErrCFStructure  = reason(KindFormat, "codice fiscale does not have the letter/digit layout of a natural person's code")
	ErrCFMonth      = reason(KindBirthDate, "codice fiscale has an invalid month letter")
	ErrCFDay        = reason(KindBirthDate, "codice fiscale has an invalid birth day")
	ErrCFDate       = reason(KindBirthDate, "codice fiscale has a birth date that does not exist")
	ErrCFCheck      = reason(KindCheck, "codice fiscale check character is wrong")
	ErrCFAnyLength  = reason(KindLength, "codice fiscale must be 16 characters (person) or 11 digits (entity)")
	ErrPIVALength   = reason(KindLength, "partita IVA must be 11 digits")
	ErrPIVADigits   = reason(KindFormat, "partita IVA may contain only digits 0-9")
	ErrPIVACheck    = reason(KindCheck, "partita IVA check digit is wrong")
	ErrPIVAOrCFForm = reason(KindLength, "partita IVA must be 11 digits (or a 16-character codice fiscale)")
)

// Character classes of the 16 positions of a personal codice fiscale:
// 'L' letter, 'N' digit or its omocodia letter, 'M' month letter.
const cfLayout = "LLLLLLNNMNNLNNNL"

// omocodia maps the letters that replace digits in homonym codes back to the
// digit, or -1; the substitution is 0→L 1→M 2→N 3→P 4→Q 5→R 6→S 7→T 8→U 9→V.
var omocodia = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for d, c := range "LMNPQRSTUV" {
		t[c] = int8(d)
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = int8(c - '0')
	}
	return t
}()

// monthOf maps the month letter (position 9) to 1..12, 0 if invalid.
var monthOf = func() (t [256]int8) {
	for m, c := range "ABCDEHLMPRST" {
		t[c] = int8(m + 1)
	}
	return t
}()

// dispari holds the values of the characters in odd positions (1, 3, …, 15)
// for the check character, indexed by digit or letter value 0..25.
var dispariLetters = [26]int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23}

// upper returns the ASCII upper-case of c (lower-case input is accepted).
func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return 'A' <= c && c <= 'Z' }

// CodiceFiscalePersona checks a natural person's 16-character codice fiscale:
// layout, month letter, day (1–31, or 41–71 for women), that the date exists in
// 19yy or 20yy (the century is not encoded), omocodia letters in any of the
// seven numeric positions, and the check character computed on the characters
// as written. Lower-case letters are accepted. The Belfiore code is not looked
// up: suppressed comuni remain valid in old codes.
func CodiceFiscalePersona(s string) error {
	if len(s) != 16 {
		return ErrCFLength
	}
	var u [16]byte
	for i := 0; i < 16; i++ {
		c := upper(s[i])
		if !isDigit(c) && !isLetter(c) {
			return ErrCFCharset
		}
		u[i] = c
	}
	for i := 0; i < 16; i++ {
		switch cfLayout[i] {
		case 'L', 'M':
			if !isLetter(u[i]) {
				return ErrCFStructure
			}
		case 'N':
			if omocodia[u[i]] < 0 {
				return ErrCFStructure
			}
		}
	}
	if err := cfDate(&u); err != nil {
		return err
	}
	if cfCheckChar(&u) != u[15] {
		return ErrCFCheck
	}
	return nil
}

// cfDate checks month, day and that the date exists in 19yy or 20yy.
func cfDate(u *[16]byte) error {
	month := int(monthOf[u[8]])
	if month == 0 {
		return ErrCFMonth
	}
	yy := int(omocodia[u[6]])*10 + int(omocodia[u[7]])
	day := int(omocodia[u[9]])*10 + int(omocodia[u[10]])
	if day > 40 {
		day -= 40
	}
	if day < 1 || day > 31 {
		return ErrCFDay
	}
	if day > daysIn(month, 1900+yy) && day > daysIn(month, 2000+yy) {
		return ErrCFDate
	}
	return nil
}

// daysIn returns the number of days of month (1..12) in year (Gregorian).
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// cfCheckChar computes the check character over the first 15 characters.
func cfCheckChar(u *[16]byte) byte {
	sum := 0
	for i := 0; i < 15; i++ {
		v := int(u[i] - '0')
		if isLetter(u[i]) {
			v = int(u[i] - 'A')
		}
		if i%2 == 0 { // 1-based odd position
			sum += dispariLetters[v]
		} else {
			sum += v
		}
	}
	return byte('A' + sum%26)
}

// PartitaIVA checks an 11-digit partita IVA (Luhn check digit). Like the
// official PHP SDK it also accepts a valid personal codice fiscale, because
// several Visengine forms use the field for "P.IVA o codice fiscale". An IT
// prefix is not stripped: the value is checked as it will be sent.
func PartitaIVA(s string) error {
	switch len(s) {
	case 11:
		return piva(s)
	case 16:
		return CodiceFiscalePersona(s)
	}
	return ErrPIVAOrCFForm
}

// CodiceFiscale checks a codice fiscale of a natural person (16 characters)
// or of an entity (11 digits with the partita IVA check digit, also used as
// the temporary code of natural persons).
func CodiceFiscale(s string) error {
	switch len(s) {
	case 16:
		return CodiceFiscalePersona(s)
	case 11:
		return piva(s)
	}
	return ErrCFAnyLength
}

// piva checks 11 digits with the Luhn check digit.
func piva(s string) error {
	if len(s) != 11 {
		return ErrPIVALength
	}
	sum := 0
	for i := 0; i < 11; i++ {
		c := s[i]
		if !isDigit(c) {
			return ErrPIVADigits
		}
		d := int(c - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	if sum%10 != 0 {
		return ErrPIVACheck
	}
	return nil
}

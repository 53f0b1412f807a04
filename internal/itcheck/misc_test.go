package itcheck

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestEmail(t *testing.T) {
	ok := []string{"mario.rossi@example.it", "a@b", "a+tag@sub.example.com"}
	bad := []string{"", "Mario <a@b.it>", "<a@b.it>", "a b@c.it", "a@b.it ", " a@b.it", "a", "a@", "@b", "a@b.it, c@d.it"}
	for _, s := range ok {
		assert.NoError(t, Email(s), s)
	}
	for _, s := range bad {
		assert.Equal(t, ErrEmail, Email(s), s)
	}
}

func TestCodComune(t *testing.T) {
	for _, s := range []string{"H501", "F205", "Z404", "h501"} {
		assert.NoError(t, CodComune(s), s)
	}
	for _, s := range []string{"", "H50", "H5011", "1501", "HH01", "H50A", "H 501", "H501 ", "\xc3\x80501"} {
		assert.Equal(t, ErrCodComune, CodComune(s), s)
	}
}

func TestCodProvincia(t *testing.T) {
	for _, s := range []string{"RM", "mi", "Su", "CI"} {
		assert.NoError(t, CodProvincia(s), s)
	}
	for _, s := range []string{"", "R", "RMA", "R1", "1M", "R ", "\xc3\x80"} {
		assert.Equal(t, ErrCodProvincia, CodProvincia(s), s)
	}
}

func TestDate(t *testing.T) {
	for _, s := range []string{"29-02-2024", "01-01-2024", "31-01-2024", "2024-01-31", "2000-02-29"} {
		assert.NoError(t, Date(s), s)
	}
	for _, s := range []string{"", "31-02-2024", "29-02-2023", "2024-02-30", "1-1-2024", "2024-1-31", " 01-01-2024",
		"01-01-2024 ", "2023-02-29", "00-01-2024", "01-13-2024", "2024/01/31", "01/01/2024", "2024-01-3a", "31-04-2024"} {
		assert.Equal(t, ErrDate, Date(s), s)
	}
}

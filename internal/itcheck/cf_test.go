package itcheck

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Vectors from validation-notes §7.1.
func TestCodiceFiscalePersona(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"Mario Rossi", "RSSMRA80A01H501U", nil},
		{"lower case", "rssmra80a01h501u", nil},
		{"mixed case", "RssMra80a01H501u", nil},
		{"omocodia step 1", "RSSMRA80A01H50MM", nil},
		{"omocodia step 2", "RSSMRA80A01H5LMX", nil},
		{"omocodia step 3", "RSSMRA80A01HRLMS", nil},
		{"omocodia step 4", "RSSMRA80A0MHRLMK", nil},
		{"omocodia step 5", "RSSMRA80ALMHRLMV", nil},
		{"omocodia step 6", "RSSMRA8LALMHRLMG", nil},
		{"omocodia step 7", "RSSMRAULALMHRLMD", nil},
		{"woman born 31 Jan", "RSSMRA80A71H501B", nil},
		{"29 Feb 2000", "RSSMRA00B29H501Y", nil},
		{"wrong check char", "RSSMRA80A01H501A", ErrCFCheck},
		{"no 29 Feb in 1901 or 2001", "RSSMRA01B29H501Z", ErrCFDate},
		{"month Z day 99", "RSSMRA80Z99H501U", ErrCFMonth},
		{"non-alphanumeric", "RSSMRA80A01H50-U", ErrCFCharset},
		{"non-ASCII", "RSSMRA80A01H50\xc3\x80", ErrCFCharset},
		{"non-ASCII 16 bytes", "RSSMRA80A01H5\xc3\x80U", ErrCFCharset},
		{"empty", "", ErrCFLength},
		{"15 chars", "RSSMRA80A01H501", ErrCFLength},
		{"17 chars", "RSSMRA80A01H501UX", ErrCFLength},
		{"leading blank", " RSSMRA80A01H501", ErrCFCharset},
		{"digit in surname", "R5SMRA80A01H501U", ErrCFStructure},
		{"non-omocodia letter in year", "RSSMRAA0A01H501U", ErrCFStructure},
		{"digit as month", "RSSMRA80101H501U", ErrCFStructure},
		{"day 00", "RSSMRA80A00H501U", ErrCFDay},
		{"day 32", "RSSMRA80A32H501U", ErrCFDay},
		{"day 40", "RSSMRA80A40H501U", ErrCFDay},
		{"day 72", "RSSMRA80A72H501U", ErrCFDay},
		{"31 April", "RSSMRA80D31H501U", ErrCFDate},
		{"71 April (woman, 31)", "RSSMRA80D71H501U", ErrCFDate},
		{"digit as check", "RSSMRA80A01H5011", ErrCFStructure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, CodiceFiscalePersona(tt.in))
		})
	}
}

// The check character of every omocodic variant is consistent with the
// algorithm, whatever the order of substitution.
func TestCodiceFiscaleOmocodiaAnyOrder(t *testing.T) {
	base := []byte("RSSMRA80A01H501U")
	pos := []int{6, 7, 9, 10, 12, 13, 14}
	for mask := 0; mask < 1<<len(pos); mask++ {
		u := [16]byte(base)
		for k, p := range pos {
			if mask&(1<<k) != 0 {
				u[p] = "LMNPQRSTUV"[u[p]-'0']
			}
		}
		u[15] = cfCheckChar(&u)
		assert.NoError(t, CodiceFiscalePersona(string(u[:])), "variant %07b", mask)
		u[15] = 'A' + (u[15]-'A'+1)%26
		assert.Equal(t, ErrCFCheck, CodiceFiscalePersona(string(u[:])), "variant %07b", mask)
	}
}

// Vectors from validation-notes §7.3.
func TestPartitaIVA(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"12345678903", nil},
		{"02342520158", nil},
		{"86334519757", nil},
		{"00000000000", nil},
		{"12345678901", ErrPIVACheck},
		{"02342520159", ErrPIVACheck},
		{"1234567890A", ErrPIVADigits},
		{"1234567890", ErrPIVAOrCFForm},
		{"123456789031", ErrPIVAOrCFForm},
		{"IT12345678903", ErrPIVAOrCFForm},
		{"", ErrPIVAOrCFForm},
		{"RSSMRA80A01H501U", nil},
		{"RSSMRA80A01H501A", ErrCFCheck},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, PartitaIVA(tt.in), tt.in)
	}
}

func TestCodiceFiscale(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"RSSMRA80A01H501U", nil},
		{"rssmra80a01h501u", nil},
		{"RSSMRA80A01H501A", ErrCFCheck},
		{"02342520158", nil},
		{"12345678901", ErrPIVACheck},
		{"0234252015X", ErrPIVADigits},
		{"0234252015", ErrCFAnyLength},
		{"", ErrCFAnyLength},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, CodiceFiscale(tt.in), tt.in)
	}
}

// Reasons are shown to users and logged: they must never echo the value.
func TestReasonsDoNotContainValues(t *testing.T) {
	for _, v := range []string{"RSSMRA80A01H501A", "12345678901", "x@@y", "Q9999X", "31-02-2024"} {
		for _, err := range []error{CodiceFiscalePersona(v), CodiceFiscale(v), PartitaIVA(v), Email(v), CodComune(v), CodProvincia(v), Date(v), FileValue(v, 10)} {
			if assert.Error(t, err, v) {
				assert.NotContains(t, err.Error(), v)
				assert.False(t, strings.Contains(strings.ToUpper(err.Error()), v))
			}
		}
	}
}

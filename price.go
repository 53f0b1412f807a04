package visengine

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
)

// Price is an exact amount of euro, kept as a whole number of millionths
// of a euro (micro-euro): Visengine and the wallet send fractions of a cent
// (the A2 product page advertises "€0.001 + VAT"), so cents are too coarse.
// It is decoded from the JSON number's text (20, 4.78, 0.001), never
// through a float, and its arithmetic (Add, Sub, Mul) is integer
// arithmetic, so sums are exact. The zero value is €0.
//
// Price is a struct so that a conversion from a plain number, which meant
// cents before sub-cent amounts were kept, no longer compiles: build one
// with Cents, Euros or Micros, compare with == or Cmp.
type Price struct {
	micros int64 // millionths of a euro
}

// MicrosPerCent is how many of Price's units make a cent.
const MicrosPerCent = 10_000

// MaxPriceMicros bounds the amounts ParsePrice accepts and Visura.Total
// returns: 2^53 micro-euro, about €9 billion. No real price comes near it,
// and within it sums, negation and conversion to float64 stay exact.
const MaxPriceMicros = 1 << 53

// MaxPriceCents is MaxPriceMicros in whole cents.
//
// Deprecated: prices are kept in micro-euro; use MaxPriceMicros.
const MaxPriceCents = MaxPriceMicros / MicrosPerCent

// Cents returns a price of n euro cents. Beyond what an int64 of
// micro-euro holds it saturates, which Total and ParsePrice report as out
// of range.
func Cents(n int64) Price { return Micros(0).addScaled(n, MicrosPerCent) }

// Euros returns a price of n whole euro, saturating like Cents.
func Euros(n int64) Price { return Micros(0).addScaled(n, 100*MicrosPerCent) }

// Micros returns a price of n millionths of a euro.
func Micros(n int64) Price { return Price{micros: n} }

// addScaled is p + n·unit, saturating at the int64 bounds.
func (p Price) addScaled(n, unit int64) Price {
	if n > math.MaxInt64/unit {
		return Price{math.MaxInt64}
	}
	if n < math.MinInt64/unit {
		return Price{math.MinInt64}
	}
	return p.Add(Price{n * unit})
}

func (p Price) inRange() bool { return p.micros >= -MaxPriceMicros && p.micros <= MaxPriceMicros }

// Micros returns the amount in millionths of a euro, exactly.
func (p Price) Micros() int64 { return p.micros }

// Cents returns the amount in whole euro cents, rounded toward zero: €0.001
// is 0 cents. Use Micros, or WholeCents, where a fraction matters.
func (p Price) Cents() int64 { return p.micros / MicrosPerCent }

// WholeCents returns the amount in cents and whether it is a whole number
// of them.
func (p Price) WholeCents() (int64, bool) {
	return p.micros / MicrosPerCent, p.micros%MicrosPerCent == 0
}

// Add returns p+q; a sum beyond the int64 range saturates (amounts within
// ±MaxPriceMicros never do).
func (p Price) Add(q Price) Price {
	s := p.micros + q.micros
	switch {
	case q.micros > 0 && s < p.micros:
		return Price{math.MaxInt64}
	case q.micros < 0 && s > p.micros:
		return Price{math.MinInt64}
	}
	return Price{s}
}

// Sub returns p-q, saturating like Add.
func (p Price) Sub(q Price) Price {
	if q.micros == math.MinInt64 {
		return p.Add(Price{math.MaxInt64}).Add(Price{1})
	}
	return p.Add(Price{-q.micros})
}

// Mul returns p times n, saturating like Add.
func (p Price) Mul(n int64) Price {
	if n == 0 || p.micros == 0 {
		return Price{}
	}
	r := p.micros * n
	if r/n == p.micros && !(n == -1 && p.micros == math.MinInt64) {
		return Price{r}
	}
	if (p.micros < 0) != (n < 0) {
		return Price{math.MinInt64}
	}
	return Price{math.MaxInt64}
}

// Neg returns -p.
func (p Price) Neg() Price { return Price{}.Sub(p) }

// Cmp compares p and q: -1, 0 or +1.
func (p Price) Cmp(q Price) int {
	switch {
	case p.micros < q.micros:
		return -1
	case p.micros > q.micros:
		return 1
	}
	return 0
}

// Sign returns -1, 0 or +1 as p is negative, zero or positive.
func (p Price) Sign() int { return p.Cmp(Price{}) }

// IsZero reports whether p is €0.
func (p Price) IsZero() bool { return p.micros == 0 }

// String formats the amount in euro with at least two decimals and as many
// more as it holds: "€4.78", "€20.00", "€0.001", "-€1.50".
func (p Price) String() string {
	return string(p.appendEuro(make([]byte, 0, 24), true))
}

// appendEuro appends the amount, with the euro sign when sign is set.
func (p Price) appendEuro(b []byte, sign bool) []byte {
	// The magnitude is taken as uint64, so math.MinInt64 does not overflow.
	m := uint64(p.micros)
	if p.micros < 0 {
		b, m = append(b, '-'), -m
	}
	if sign {
		b = append(b, "€"...)
	}
	b = strconv.AppendUint(b, m/1e6, 10)
	frac := []byte(strconv.FormatUint(1e6+m%1e6, 10))[1:] // six digits
	for len(frac) > 2 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	return append(append(b, '.'), frac...)
}

// MarshalJSON writes the amount as a JSON number in euro, like the wire.
func (p Price) MarshalJSON() ([]byte, error) {
	return p.appendEuro(nil, false), nil
}

// UnmarshalJSON reads a number (or a numeric string, or null as zero).
func (p *Price) UnmarshalJSON(b []byte) error {
	if p == nil {
		return invalidArg("price", "is nil")
	}
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*p = Price{}
		return nil
	}
	c, err := parsePrice(bytes.Trim(b, `"`))
	if err != nil {
		return err
	}
	*p = c
	return nil
}

// ParsePrice reads a decimal euro amount ("20", "4.78", "0.001", "1e1")
// exactly. Digits beyond the millionth of a euro must be zero: such
// amounts would make totals inexact, so they are refused rather than
// rounded. Amounts beyond ±MaxPriceMicros are refused too.
func ParsePrice(s string) (Price, error) { return parsePrice(s) }

var (
	errPriceSyntax = fmt.Errorf("%w: not a decimal number", ErrBadPrice)
	errSubMicro    = fmt.Errorf("%w: finer than a millionth of a euro", ErrBadPrice)
	errPriceRange  = fmt.Errorf("%w: out of range", ErrBadPrice)
)

// parsePrice is ParsePrice on the text of a JSON number, without
// allocating: the digits and the exponent are read as integers, so the
// amount is exact without big numbers.
func parsePrice[T string | []byte](s T) (Price, error) {
	d, ok := splitDecimal(s)
	if !ok {
		return Price{}, errPriceSyntax
	}
	// The amount is the digits of both parts, read as one integer, times
	// 10^exp micro-euro; zeros at either end are dropped (trailing ones
	// into exp).
	at := func(i int) byte {
		if i < len(d.whole) {
			return d.whole[i]
		}
		return d.frac[i-len(d.whole)]
	}
	lo, hi, exp := 0, len(d.whole)+len(d.frac), d.exp-len(d.frac)+6
	for hi > lo && at(hi-1) == '0' {
		hi, exp = hi-1, exp+1
	}
	for lo < hi && at(lo) == '0' {
		lo++
	}
	switch {
	case lo == hi:
		return Price{}, nil
	case exp < 0:
		return Price{}, errSubMicro
	case hi-lo+exp > 16: // at least 10^16 > MaxPriceMicros
		return Price{}, errPriceRange
	}
	var c uint64
	for i := lo; i < hi; i++ {
		c = c*10 + uint64(at(i)-'0')
	}
	for ; exp > 0; exp-- {
		c *= 10
	}
	if c > MaxPriceMicros {
		return Price{}, errPriceRange
	}
	if d.neg {
		return Price{-int64(c)}, nil
	}
	return Price{int64(c)}, nil
}

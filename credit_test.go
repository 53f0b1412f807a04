package visengine

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixedCredit is a CreditSource that counts its calls.
type fixedCredit struct {
	credit Price
	err    error
	calls  atomic.Int32
}

func (f *fixedCredit) Credit(context.Context) (Price, error) {
	f.calls.Add(1)
	return f.credit, f.err
}

func TestCreditCheckBeforePaying(t *testing.T) {
	a2 := decodeVisura(t, "visura_a2.json") // €20, urgenza +€4
	cases := []struct {
		name    string
		credit  Price
		opzioni []string
		refused bool
	}{
		{"credit below the price", Cents(19_99), nil, true},
		{"credit equal to the price", Cents(20_00), nil, false},
		{"options count", Cents(23_99), []string{"urgenza"}, true},
		{"enough with options", Cents(24_00), []string{"urgenza"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFlowServer(t)
			src := &fixedCredit{credit: tc.credit}
			opts := []SubmitOption{WithCreditCheck(src), WithOpzioni(tc.opzioni...)}
			r, err := fs.client().Submit(context.Background(), a2, validA2Values(t), opts...)
			assert.EqualValues(t, 1, src.calls.Load())
			if !tc.refused {
				require.NoError(t, err)
				assert.Equal(t, StateSubmitted, r.State)
				assert.EqualValues(t, 1, fs.charges.Load())
				return
			}
			require.ErrorIs(t, err, ErrInsufficientCredit)
			var se *SubmitError
			assert.False(t, errors.As(err, &se), "nothing was sent: not a SubmitError")
			assert.Contains(t, err.Error(), "the wallet holds "+tc.credit.String()+", the richiesta costs ")
			assert.EqualValues(t, 0, fs.srv.hits.Load(), "no request to Visengine")
		})
	}
}

func TestCreditCheckFailures(t *testing.T) {
	a2 := decodeVisura(t, "visura_a2.json")
	fs := newFlowServer(t)
	c := fs.client()
	ctx := context.Background()

	src := &fixedCredit{err: errors.New("wallet unreachable")}
	_, err := c.Submit(ctx, a2, validA2Values(t), WithCreditCheck(src))
	require.ErrorIs(t, err, src.err)
	assert.Contains(t, err.Error(), "checking the credit before paying (nothing sent): wallet unreachable")

	var nilSrc *fixedCredit
	for _, bad := range []CreditSource{nil, nilSrc} {
		_, err = c.Submit(ctx, a2, validA2Values(t), WithCreditCheck(bad))
		require.ErrorIs(t, err, ErrInvalidArgument)
	}

	// An invalid applicant is refused before the wallet is asked.
	src = &fixedCredit{credit: Cents(1000_00)}
	values := validA2Values(t)
	delete(values, "$3")
	_, err = c.Submit(ctx, a2, values, WithCreditCheck(src))
	require.ErrorIs(t, err, ErrInvalidFields)
	assert.Zero(t, src.calls.Load())

	// Nothing reached Visengine in any of these.
	assert.EqualValues(t, 0, fs.srv.hits.Load())
}

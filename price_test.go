package visengine

import (
	"context"
	"errors"
	"math"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The A2 product page advertises "€0.001 + VAT": a sub-cent price is read
// exactly, summed exactly and printed in euro, and does not fail the
// structure it is in.
func TestSubCentPrices(t *testing.T) {
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, `{"success":true,"message":"","error":null,"data":{"hash_visura":"abc","nome_visura":"x",
			"json_struttura":{"campi":{},"validazione":""},"prezzo_visura":0.001,"prezzo_ricerca":"0.0005",
			"opzioni":[{"tipo":"urgenza","prezzo":4.0015,"nome":"opzione_0"}]}}`)
	})
	v, err := newTestClient(t, srv.URL).GetVisura(context.Background(), "abc")
	require.NoError(t, err)
	assert.Equal(t, Micros(1_000), v.PrezzoVisura)
	assert.Equal(t, Micros(500), v.PrezzoRicerca)
	total, err := v.Total("urgenza")
	require.NoError(t, err)
	assert.Equal(t, Micros(4_002_500), total)
	assert.Equal(t, "€4.0025", total.String())
	assert.Equal(t, "€0.001", v.PrezzoVisura.String())
	assert.Equal(t, int64(0), v.PrezzoVisura.Cents(), "whole cents round toward zero")
	_, whole := v.PrezzoVisura.WholeCents()
	assert.False(t, whole)
}

func TestPriceArithmetic(t *testing.T) {
	assert.Equal(t, Cents(2400), Euros(20).Add(Euros(4)))
	assert.Equal(t, Micros(-1), Cents(0).Sub(Micros(1)))
	assert.Equal(t, Euros(400), Euros(20).Mul(20))
	assert.Equal(t, Micros(-3_000), Micros(1_000).Mul(-3))
	assert.Equal(t, -1, Micros(1).Cmp(Micros(2)))
	assert.Equal(t, 1, Cents(1).Sign())
	assert.True(t, Price{}.IsZero())
	assert.Equal(t, Micros(5), Micros(-5).Neg())
	// Beyond int64 everything saturates, and so stays out of range.
	assert.Equal(t, Micros(math.MaxInt64), Micros(math.MaxInt64).Add(Micros(1)))
	assert.Equal(t, Micros(math.MinInt64), Micros(math.MinInt64).Sub(Micros(1)))
	assert.Equal(t, Micros(math.MaxInt64), Micros(math.MinInt64).Neg())
	assert.Equal(t, Micros(math.MaxInt64), Micros(math.MaxInt64/2+1).Mul(2))
	assert.Equal(t, Micros(math.MinInt64), Micros(math.MaxInt64).Mul(-2))
	assert.Equal(t, Micros(math.MaxInt64), Cents(math.MaxInt64))
	assert.Equal(t, Micros(math.MinInt64), Euros(math.MinInt64))
	for p, want := range map[Price]string{Euros(20): "€20.00", Cents(478): "€4.78", Micros(1_000): "€0.001",
		Micros(1): "€0.000001", Micros(-1_500_000): "-€1.50", Micros(4_780_100): "€4.7801"} {
		assert.Equal(t, want, p.String())
	}
}

// One entry the SDK cannot read does not fail the catalogue: the others
// are returned, and the bad one is reported with its own error.
func TestListVisureKeepsGoodEntries(t *testing.T) {
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, `{"success":true,"message":"","error":null,"data":[
			{"nome_visura":"A","nome_categoria":"C","hash_visura":"aaa"},
			{"nome_visura":7,"nome_categoria":"C","hash_visura":"bbb"},
			"odd",
			{"nome_visura":"D","nome_categoria":"C","hash_visura":"ddd"}]}`)
	})
	list, err := newTestClient(t, srv.URL).ListVisure(context.Background())
	assert.Equal(t, []VisuraSummary{{"A", "C", "aaa"}, {"D", "C", "ddd"}}, list)
	var le *ListError
	require.ErrorAs(t, err, &le)
	assert.ErrorIs(t, err, ErrUnexpectedResponse)
	assert.Equal(t, 4, le.Total)
	require.Len(t, le.Entries, 2)
	assert.Equal(t, 1, le.Entries[0].Index)
	assert.Equal(t, "bbb", le.Entries[0].ID)
	assert.Equal(t, 2, le.Entries[1].Index)
	assert.Empty(t, le.Entries[1].ID)
	for _, e := range le.Entries {
		assert.Error(t, e.Err)
	}
	assert.Contains(t, err.Error(), "GET /visure: 2 of 4 entries could not be read; #1 (bbb): ")
}

// In GET /richiesta each unreadable entry carries its own error: a bad
// price is told apart from a bad state, by position and id.
func TestListRichiesteEntryErrors(t *testing.T) {
	id := func(c byte) string { return "5f0c1a2b3c4d5e6f7a8b9c0" + string(c) }
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, `{"success":true,"message":"","error":null,"data":[
			{"_id":"`+id('1')+`","state":1,"prezzo_visura":0.001},
			{"_id":"`+id('2')+`","state":1,"prezzo_visura":"4.7.8"},
			{"_id":"`+id('3')+`","state":7,"prezzo_visura":20},
			{"_id":"`+id('4')+`","state":0,"prezzo_visura":20}]}`)
	})
	list, err := newTestClient(t, srv.URL).ListRichieste(context.Background())
	require.Len(t, list, 2)
	assert.Equal(t, id('1'), list[0].ID)
	assert.Equal(t, Micros(1_000), list[0].PrezzoVisura)
	assert.Equal(t, id('4'), list[1].ID)
	var le *ListError
	require.ErrorAs(t, err, &le)
	require.Len(t, le.Entries, 2)
	assert.Equal(t, EntryError{Index: 1, ID: id('2'), Err: le.Entries[0].Err}, le.Entries[0])
	assert.ErrorIs(t, le.Entries[0].Err, ErrBadPrice)
	assert.Equal(t, 2, le.Entries[1].Index)
	assert.False(t, errors.Is(le.Entries[1].Err, ErrBadPrice))
	assert.ErrorIs(t, err, ErrBadPrice)
	assert.ErrorIs(t, err, ErrUnexpectedResponse)
}

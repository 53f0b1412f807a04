package visengine

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func decodeVisura(t *testing.T, file string) *Visura {
	t.Helper()
	return decodeData[Visura](t, file)
}

func keys(fields []Campo) []string {
	var out []string
	for _, f := range fields {
		out = append(out, f.Key)
	}
	return out
}

func TestDecodeVisuraExamples(t *testing.T) {
	cases := []struct {
		file        string
		hash, nome  string
		categoria   string
		prezzo      Price
		ricerca     bool
		order       []string
		validazione string
		opzioni     int
		fornitori   string
	}{
		{"spec/get_visure_hash_200.json", "eccbc87e4b5ce2fe28308fd9f2a7baf3", "Visura Camerale Ordinaria - società di Capitale ",
			"Camerali", Cents(490), false, []string{"$0", "$1"}, "$0 && $1  ", 0, ""},
		{"visura_a2.json", "2631ec9b62135de4186f509fea7d954b", "Domanda Esame A2 per Carta di Soggiorno",
			"Patronato", Cents(2000), false, []string{"$0", "$1", "$4", "$3", "$2", "$5", "$6", "$7"},
			"($0 && $1 && $2 && $3 && $4 && $5 && $6 && $7) || ($0 && $1 && $2 && $3 && $4 && $5 && $6)", 2, "[]"},
		{"visura_cariche_attive.json", "f3a0979f15915b337aafabcd89c5ee70", "Cariche Attive Persona",
			"Camerali", Cents(210), false, []string{"$0"}, "$0", 0, "[]"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			v := decodeVisura(t, tc.file)
			assert.Equal(t, tc.hash, v.HashVisura)
			assert.Equal(t, tc.nome, v.NomeVisura)
			assert.Equal(t, tc.categoria, v.NomeCategoria)
			assert.Equal(t, tc.prezzo, v.PrezzoVisura)
			assert.Equal(t, Cents(0), v.PrezzoRicerca)
			assert.Equal(t, tc.ricerca, bool(v.HasRicerca))
			assert.Equal(t, tc.order, keys(v.Fields()))
			assert.Equal(t, tc.validazione, v.JSONStruttura.Validazione)
			assert.Len(t, v.Opzioni, tc.opzioni)
			assert.Equal(t, tc.fornitori, string(v.Fornitori))
		})
	}
}

// Every structure we know numbers ordine from 1 and leaves it out only on
// $0, so Fields puts $0 first and then follows ordine. Checked on every
// structure in the repository: the testdata and the fake's catalogue.
func TestFieldsOrderOnKnownStructures(t *testing.T) {
	files, err := filepath.Glob("visenginetest/catalogue/*.json")
	require.NoError(t, err)
	files = append(files, "testdata/visura_a2.json", "testdata/visura_cariche_attive.json", "testdata/spec/get_visure_hash_200.json")
	structures := 0
	for _, file := range files {
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		var env struct {
			Data json.RawMessage `json:"data"`
		}
		require.NoError(t, json.Unmarshal(b, &env), file)
		var v Visura
		if json.Unmarshal(env.Data, &v) != nil || v.JSONStruttura.Campi == nil {
			continue // the catalogue list, not a structure
		}
		structures++
		fields := v.Fields()
		require.NotEmpty(t, fields, file)
		assert.Equal(t, "$0", fields[0].Key, file)
		assert.Equal(t, "unset", fields[0].Ordine.String(), "%s: $0 has no ordine", file)
		for i, f := range fields[1:] {
			n, ok := f.Ordine.Value()
			assert.True(t, ok, "%s: %s has an ordine", file, f.Key)
			assert.Equal(t, i+1, n, "%s: ordine numbered from 1 in display order", file)
		}
	}
	assert.GreaterOrEqual(t, structures, 7)
}

func TestFieldsOrderTies(t *testing.T) {
	ord := func(n int) Ordine { return Ordine{n: n, set: true} }
	v := &Visura{JSONStruttura: Struttura{Campi: map[string]Campo{
		"$10": {Ordine: ord(1)},
		"$2":  {Ordine: ord(1)},
		"$0":  {},
		"$3":  {Ordine: ord(-1)},
		"$1":  {}, // absent: 0, after $0 by key number
		"$x":  {},
		"$4":  {Ordine: ord(math.MaxInt)},
		"$5":  {Ordine: ord(math.MinInt)},
	}}}
	assert.Equal(t, []string{"$5", "$3", "$0", "$1", "$x", "$2", "$10", "$4"}, keys(v.Fields()))
}

func TestOrdinePrints(t *testing.T) {
	var c struct {
		A, B Ordine
	}
	require.NoError(t, json.Unmarshal([]byte(`{"A":"5","B":null}`), &c))
	assert.Equal(t, "5", c.A.String())
	assert.Equal(t, "unset", c.B.String())
	assert.Equal(t, "5 unset", fmt.Sprintf("%v %s", c.A, c.B))
	assert.Equal(t, "{A:5 B:unset}", fmt.Sprintf("%+v", c))
	campo := Campo{Key: "$2", Nome: "Email", Ordine: c.A}
	assert.Contains(t, fmt.Sprintf("%+v", campo), "Ordine:5 ")
	assert.NotContains(t, fmt.Sprintf("%+v", campo), "set:")

	for in, want := range map[string]string{`"abc"`: "unset", `""`: "unset", `"99999999999999999999"`: "unset", `3`: "3", `" 7 "`: "7", `"-2"`: "-2"} {
		var o Ordine
		require.NoError(t, json.Unmarshal([]byte(in), &o), in)
		assert.Equal(t, want, o.String(), in)
		n, ok := o.Value()
		if !ok {
			assert.Zero(t, n, "%s: an unset ordine counts as 0", in)
		}
	}
}

func TestVisuraCameraleIstruzioni(t *testing.T) {
	v := decodeVisura(t, "spec/get_visure_hash_200.json")
	html, err := v.JSONStruttura.IstruzioniHTML()
	require.NoError(t, err)
	assert.Equal(t, "<p>Per richiedere la Visura Camerale Ordinaria - Societ&agrave; di Capitale inserisci i seguenti dati:&nbsp;&nbsp;<strong>Nrea</strong>&nbsp;e <strong>Cciaa</strong></p>\r\n", html)
	assert.Nil(t, v.Opzioni, "opzioni: null stays nil")
	f, ok := v.Field("$0")
	require.True(t, ok)
	assert.Equal(t, "NRea", f.Nome)
	assert.Equal(t, "denominazione", f.Tipo)
	assert.False(t, bool(f.Null))
	_, has := f.Ordine.Value()
	assert.False(t, has)
	empty, err := (&Struttura{}).IstruzioniHTML()
	require.NoError(t, err)
	assert.Empty(t, empty)
	_, err = (&Struttura{Istruzioni: "%%%"}).IstruzioniHTML()
	assert.ErrorIs(t, err, ErrUnexpectedResponse)
}

func TestA2FieldsOptionsAndTotal(t *testing.T) {
	v := decodeVisura(t, "visura_a2.json")
	f, ok := v.Field("codice fiscale")
	require.True(t, ok, "lookup by name ignores case")
	assert.Equal(t, "$4", f.Key)
	assert.Equal(t, 4, f.Index())
	assert.Equal(t, "codice_fiscale_persona_fisica", f.Tipo)
	n, has := f.Ordine.Value()
	assert.True(t, has)
	assert.Equal(t, 2, n)

	urg, ok := v.Opzione("urgenza")
	require.True(t, ok)
	assert.Equal(t, "opzione_0", urg.Nome)
	assert.Equal(t, Cents(400), urg.Prezzo)
	byName, ok := v.Opzione("opzione_1")
	require.True(t, ok)
	assert.Equal(t, "assistenza_dedicata", byName.Tipo)

	total, err := v.Total("urgenza", "opzione_1")
	require.NoError(t, err)
	assert.Equal(t, Cents(3400), total)
	assert.Equal(t, "€34.00", total.String())
	// One option named by tipo and by nome is one option, as on the wire.
	total, err = v.Total("urgenza", "opzione_0", "urgenza")
	require.NoError(t, err)
	assert.Equal(t, Cents(2400), total)
	_, err = v.Total("urgenzza")
	assert.ErrorIs(t, err, ErrInvalidArgument)
	_, ok = v.Field("nope")
	assert.False(t, ok)
}

func TestDecodeCatalogueExample(t *testing.T) {
	var env struct {
		Data []VisuraSummary `json:"data"`
	}
	require.NoError(t, json.Unmarshal(readTestdata(t, "spec/get_visure_200.json"), &env))
	require.Len(t, env.Data, 92)
	byHash := map[string]VisuraSummary{}
	cats := map[string]int{}
	for _, s := range env.Data {
		byHash[s.HashVisura] = s
		cats[s.NomeCategoria]++
		require.NoError(t, checkHash(s.HashVisura), "every real hash passes our check: %q", s.HashVisura)
	}
	assert.Equal(t, "Domanda Esame A2 per Carta di Soggiorno", byHash["2631ec9b62135de4186f509fea7d954b"].NomeVisura)
	assert.Equal(t, "Visura Camerale Ordinaria con Ricerca", byHash["afa0b4cu7yd06226i5d89p00077c3j6t"].NomeVisura)
	assert.Equal(t, map[string]int{"Camerali": 32, "Catastali": 2, "Servizi immobiliari": 3, "Patronato": 55}, cats)
}

func TestMalformedHashRejectedBeforeRequest(t *testing.T) {
	c, mock := mockClient(t)
	for _, h := range []string{"", "a/b", "../visure", "ab cd", "ab%2F", "àbc", "abc?x=1", "abc#f", string(make([]byte, 65))} {
		_, err := c.GetVisura(context.Background(), h)
		assert.ErrorIs(t, err, ErrInvalidArgument, "%q", h)
	}
	assert.Zero(t, mock.GetTotalCallCount())
}

func TestGetVisuraWrongHash(t *testing.T) {
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		w.Write(readTestdata(t, "spec/get_visure_hash_400.json"))
	})
	_, err := newTestClient(t, srv.URL).GetVisura(context.Background(), "ffffffffffffffffffffffffffffffff")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, APIError{Method: "GET", Path: "/visure/ffffffffffffffffffffffffffffffff",
		StatusCode: 400, Code: CodeWrongHash, Message: "wrong hash_visura"}, *apiErr)
	assert.ErrorIs(t, err, ErrInvalidRequest)
	assert.ErrorIs(t, err, ErrNotFound, "an unknown hash is not found, as GetVisura's doc says")
	assert.Equal(t, "visengine: GET /visure/ffffffffffffffffffffffffffffffff: HTTP 400 (Visengine error 200): wrong hash_visura", err.Error())
}

func TestParsePrice(t *testing.T) {
	good := map[string]Price{"20": Cents(2000), "4.78": Cents(478), "0.38": Cents(38), "4.9": Cents(490), "4.780": Cents(478), "1e1": Cents(1000),
		"1E+1": Cents(1000), "478e-2": Cents(478), "-0.5": Cents(-50), "0": Cents(0), ".5": Cents(50), "5.": Cents(500), "0.00": Cents(0), "182.03": Cents(18203),
		"4.785": Micros(4_785_000), "0.001": Micros(1_000), "0.000001": Micros(1), "1e-6": Micros(1), "-0.0005": Micros(-500)}
	for s, want := range good {
		got, err := ParsePrice(s)
		require.NoError(t, err, s)
		assert.Equal(t, want, got, s)
	}
	for _, s := range []string{"", "-", ".", "0.0000001", "1e-7", "abc", "1e999", "0x10", "1/3", "4,78", "1e", "--1", "9e30", "1.2.3", " 1"} {
		_, err := ParsePrice(s)
		assert.ErrorIs(t, err, ErrBadPrice, "%q", s)
	}
}

func TestPriceJSON(t *testing.T) {
	var p struct{ A, B, C, D Price }
	require.NoError(t, json.Unmarshal([]byte(`{"A":20,"B":4.78,"C":"0.38","D":null}`), &p))
	assert.Equal(t, []Price{Cents(2000), Cents(478), Cents(38), Cents(0)}, []Price{p.A, p.B, p.C, p.D})
	b, err := json.Marshal(p)
	require.NoError(t, err)
	assert.JSONEq(t, `{"A":20.00,"B":4.78,"C":0.38,"D":0.00}`, string(b))
	assert.Equal(t, "-€1.05", Cents(-105).String())
	assert.Error(t, json.Unmarshal([]byte(`{"A":true}`), &p))
	assert.Error(t, json.Unmarshal([]byte(`{"A":4.7850001}`), &p))
}

func TestFlagJSON(t *testing.T) {
	for in, want := range map[string]bool{`true`: true, `false`: false, `1`: true, `0`: false, `"1"`: true, `"0"`: false, `null`: false, `"true"`: true} {
		var f Flag
		require.NoError(t, json.Unmarshal([]byte(in), &f), in)
		assert.Equal(t, want, bool(f), in)
	}
	var f Flag
	assert.ErrorIs(t, json.Unmarshal([]byte(`"yes"`), &f), ErrUnexpectedResponse)
	assert.Error(t, json.Unmarshal([]byte(`2`), &f))
}

func TestOrdineJSON(t *testing.T) {
	var c struct{ A, B, C, D Ordine }
	require.NoError(t, json.Unmarshal([]byte(`{"A":"3","B":4,"C":null,"D":"x"}`), &c))
	for _, tc := range []struct {
		o   Ordine
		n   int
		set bool
	}{{c.A, 3, true}, {c.B, 4, true}, {c.C, 0, false}, {c.D, 0, false}} {
		n, set := tc.o.Value()
		assert.Equal(t, tc.set, set)
		if set {
			assert.Equal(t, tc.n, n)
		}
	}
	b, _ := json.Marshal(c)
	assert.JSONEq(t, `{"A":"3","B":"4","C":null,"D":null}`, string(b))
}

func TestUnknownKeysAndTiposKept(t *testing.T) {
	var v Visura
	require.NoError(t, json.Unmarshal([]byte(`{"hash_visura":"x","extra":{"a":[1]},"ricerca":"1",
		"json_struttura":{"campi":{"$0":{"nome":"Tipo","tipo":"radio","opzioni":{"@P":"Privato","A":"Azienda"}}},"validazione":"$0"},
		"prezzo_visura":"4.78","opzioni":[{"tipo":"urgenza","prezzo":4,"nome":"opzione_0"}]}`), &v))
	assert.True(t, bool(v.HasRicerca))
	f, _ := v.Field("$0")
	assert.Equal(t, "radio", f.Tipo)
	assert.JSONEq(t, `{"@P":"Privato","A":"Azienda"}`, string(f.Opzioni))
	assert.Equal(t, Cents(478), v.PrezzoVisura)
}

// No real price is near 2^53 micro-euro; refusing larger ones keeps String,
// negation and sums safe.
func TestParsePriceRange(t *testing.T) {
	limit := "9007199254.740992" // 2^53 micro-euro
	p, err := ParsePrice(limit)
	require.NoError(t, err)
	assert.Equal(t, Micros(MaxPriceMicros), p)
	p, err = ParsePrice("-" + limit)
	require.NoError(t, err)
	assert.Equal(t, Micros(-MaxPriceMicros), p)
	for _, s := range []string{"9007199254.740993", "-9007199254.740993", "9223372036854.775807", "-9223372036854.775808", "1e10", "9e15"} {
		_, err := ParsePrice(s)
		assert.ErrorIs(t, err, ErrBadPrice, s)
		var q Price
		assert.Error(t, json.Unmarshal([]byte(s), &q), s)
	}
}

func TestPriceStringExtremes(t *testing.T) {
	assert.Equal(t, "-€9223372036854.775808", Micros(math.MinInt64).String())
	assert.Equal(t, "€9223372036854.775807", Micros(math.MaxInt64).String())
	for _, p := range []Price{Micros(math.MinInt64), Micros(math.MaxInt64), Micros(math.MinInt64 + 1), Cents(-1), Cents(0)} {
		b, err := json.Marshal(p)
		require.NoError(t, err, p.Micros())
		assert.True(t, json.Valid(b), string(b))
		assert.NotContains(t, string(b), "--")
	}
	b, _ := json.Marshal(Micros(math.MinInt64))
	assert.Equal(t, "-9223372036854.775808", string(b))
}

func TestVisuraTotalRefusesOverflow(t *testing.T) {
	v := &Visura{PrezzoVisura: Cents(2000), Opzioni: []Opzione{
		{Tipo: "urgenza", Nome: "opzione_0", Prezzo: Cents(math.MaxInt64)},
		{Tipo: "big", Nome: "opzione_1", Prezzo: Micros(MaxPriceMicros)},
		{Tipo: "neg", Nome: "opzione_2", Prezzo: Cents(math.MinInt64)},
		{Tipo: "ok", Nome: "opzione_3", Prezzo: Cents(500)},
	}}
	for _, opts := range [][]string{{"urgenza"}, {"big"}, {"big", "big"}, {"neg"}, {"ok", "urgenza", "urgenza"}} {
		total, err := v.Total(opts...)
		assert.ErrorIs(t, err, ErrBadPrice, "%v", opts)
		assert.Zero(t, total)
	}
	total, err := v.Total("ok", "opzione_3") // one option, by tipo and by nome
	require.NoError(t, err)
	assert.Equal(t, Cents(2500), total)

	huge := &Visura{PrezzoVisura: Cents(math.MaxInt64)}
	_, err = huge.Total()
	assert.ErrorIs(t, err, ErrBadPrice)
}

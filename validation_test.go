package visengine

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine/internal/itcheck"
)

func loadA2(tb testing.TB) *Visura {
	tb.Helper()
	b, err := os.ReadFile("testdata/visura_a2.json")
	require.NoError(tb, err)
	var env struct {
		Data Visura `json:"data"`
	}
	require.NoError(tb, json.Unmarshal(b, &env))
	return &env.Data
}

// a2Applicant is a complete, well-formed A2 applicant ($7 is optional).
func a2Applicant(fileSize int) Values {
	return Values{
		"$0": "Mario",
		"$1": "Rossi",
		"$2": "mario.rossi@example.it",
		"$3": "+39 333 1234567",
		"$4": "RSSMRA80A01H501U",
		"$5": FileValue("documento.pdf", "application/pdf", make([]byte, fileSize)),
		"$6": FileValue("cf.jpg", "image/jpeg", []byte("jpeg")),
	}
}

func TestValidateA2Complete(t *testing.T) {
	v := loadA2(t)
	require.NotNil(t, v.JSONStruttura.compiled, "compiled at decode time")
	assert.NoError(t, v.Validate(a2Applicant(1000)))
	vals := a2Applicant(10)
	vals.Set("$7", FileValue("mandato.pdf", "application/pdf", []byte("%PDF")))
	assert.NoError(t, v.Validate(vals))
}

func TestValidateA2MissingPhone(t *testing.T) {
	v := loadA2(t)
	vals := a2Applicant(10)
	vals.Set("$3", "   ") // blank counts as missing
	err := v.Validate(vals)
	require.ErrorIs(t, err, ErrInvalidFields)
	assert.NotErrorIs(t, err, ErrRuleUnsupported)
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	require.NotNil(t, ve.Missing)
	assert.Equal(t, [][]string{{"$3"}}, ve.Missing.Alternatives)
	assert.Equal(t, "CELLULARE", ve.Names["$3"])
	assert.Empty(t, ve.Invalid)
	assert.Equal(t, `visengine: invalid fields: missing "CELLULARE" ($3)`, err.Error())
	assert.Equal(t, []Problem{{Key: "$3", Name: "CELLULARE", Code: ProblemCodeMissing, Reason: "required and not filled"}}, ve.Problems())
}

// Canary values must never reach an error string, whatever the verb.
func TestValidateReportsEverythingWithoutValues(t *testing.T) {
	v := loadA2(t)
	vals := Values{
		"$0":        "CANARY-NOME",
		"$2":        "CANARY-EMAIL <x@y.it>",
		"$4":        "CANARYCANARYCAN1",
		"$5":        "CANARY|data:application/pdf;base64,%%%%",
		"$9":        "CANARY-UNKNOWN",
		"$0 ":       "CANARY-KEY-SPACE",
		"$3":        "",
		"CANARY-$X": "",
	}
	err := v.Validate(vals)
	require.ErrorIs(t, err, ErrInvalidFields)
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, []string{"$1", "$3", "$6"}, ve.Missing.Required)
	assert.Equal(t, []Problem{
		{"$2", "Email", ProblemCodeBadEmail, "e-mail must be a bare address such as name@example.it"},
		{"$4", "CODICE FISCALE", ProblemCodeBadFormat, "codice fiscale does not have the letter/digit layout of a natural person's code"},
		{"$5", "COPIA DOCUMENTO D`IDENTITÀ FRONTE RETRO", ProblemCodeBadBase64, "file content is not valid standard base64"},
	}, ve.Invalid)
	assert.Equal(t, []string{"$9", "?", "?"}, ve.UnknownKeys, "keys not of the form $N are hidden")
	for _, s := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%s", err)} {
		for k, val := range vals {
			if val != "" && !strings.HasPrefix(k, "CANARY") {
				assert.NotContains(t, s, val)
			}
		}
		assert.NotContains(t, s, "CANARY-NOME")
		assert.NotContains(t, s, "CANARY-$X", "a key not of the form $N is only counted")
		assert.Contains(t, s, `unknown keys "$9" and 2 other(s) not of the form $N`)
		assert.Contains(t, s, `missing "Cognome" ($1), "CELLULARE" ($3), "COPIA CODICE FISCALE FRONTE RETRO" ($6); "Email" ($2): e-mail`)
		assert.Contains(t, s, `"CODICE FISCALE" ($4): codice fiscale`)
		assert.NotContains(t, s, "«")
	}
}

// testVisura builds a document in code (no JSON decoding, so no cache).
func testVisura(rule string, tipi ...string) *Visura {
	campi := map[string]Campo{}
	for i, tipo := range tipi {
		campi[fmt.Sprintf("$%d", i)] = Campo{Nome: strings.ToUpper(tipo), Tipo: tipo}
	}
	return &Visura{JSONStruttura: Struttura{Campi: campi, Validazione: rule}}
}

func TestValidateFormatsByTipo(t *testing.T) {
	tests := []struct {
		tipo, value, reason string
		code                ProblemCode
	}{
		{"codice_fiscale_persona_fisica", "RSSMRA80A01H501U", "", ""},
		{"codice_fiscale_persona_fisica", "rssmra80a01h501u", "", ""},
		{"codice_fiscale_persona_fisica", "RSSMRA80A01H501A", "codice fiscale check character is wrong", ProblemCodeCheckChar},
		{"codice_fiscale_persona_fisica", " RSSMRA80A01H501U", "has leading or trailing blanks", ProblemCodeBlankAround},
		{"codice_fiscale_persona_fisica", "RSSMRA01B29H501Z", "codice fiscale has a birth date that does not exist", ProblemCodeBadBirthDate},
		{"codice_fiscale_persona_fisica", "RSSMRA80A01H501", "codice fiscale must be 16 characters", ProblemCodeBadLength},
		{"codice_fiscale", "02342520158", "", ""},
		{"codice_fiscale", "12345678901", "partita IVA check digit is wrong", ProblemCodeCheckChar},
		{"partita_iva", "12345678903", "", ""},
		{"partita_iva", "RSSMRA80A01H501U", "", ""},
		{"partita_iva", "IT12345678903", "partita IVA must be 11 digits (or a 16-character codice fiscale)", ProblemCodeBadLength},
		{"email", "a@b.it", "", ""},
		{"email", "Mario <a@b.it>", "e-mail must be a bare address such as name@example.it", ProblemCodeBadEmail},
		{"cod_comune", "h501", "", ""},
		{"cod_comune", "H5011", "codice comune must be one letter and three digits, such as H501", ProblemCodeBadFormat},
		{"cod_provincia", "RM", "", ""},
		{"cod_provincia", "R1", "sigla provincia must be two letters, such as RM", ProblemCodeBadFormat},
		{"data_iso8601", "31-01-2024", "", ""},
		{"data_iso8601", "2024-01-31", "", ""},
		{"data_iso8601", "31-02-2024", "date must be a real calendar date written DD-MM-YYYY or YYYY-MM-DD", ProblemCodeBadDate},
		{"file", FileValue("a.txt", "text/plain", []byte("hello")), "", ""},
		{"file", "a.txt|data:text/plain;base64,aGVsbG8", "file content length is not a multiple of 4 (base64 padding)", ProblemCodeBadBase64},
		{"file", FileValue("big.bin", "application/octet-stream", make([]byte, DefaultMaxFileSize+1)), "file is larger than the allowed size", ProblemCodeTooLarge},
		{"file", "|data:text/plain;base64,aGVsbG8=", "file name is empty", ProblemCodeBadFileName},
		{"file", "a.txt|data:text;base64,aGVsbG8=", "file MIME type must be of the form type/subtype", ProblemCodeBadMIMEType},
		{"file", "a.txt|data:text/plain;base64,", "file content is empty", ProblemCodeEmptyFile},
		{"file", "a.txt", "file must be written name|data:<type/subtype>;base64,<content>", ProblemCodeBadFormat},
		{"testo", "anything at all", "", ""},
		{"radio", "A", "", ""},
		{"tipo_from_the_future", "???", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.tipo+"/"+tt.value[:min(len(tt.value), 20)], func(t *testing.T) {
			v := testVisura("$0", tt.tipo)
			err := v.Validate(Values{"$0": tt.value})
			if tt.reason == "" {
				assert.NoError(t, err)
				return
			}
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Nil(t, ve.Missing, "a filled field satisfies presence even when malformed")
			assert.Equal(t, []Problem{{"$0", strings.ToUpper(tt.tipo), tt.code, tt.reason}}, ve.Invalid)
			assert.Equal(t, ve.Invalid, ve.Problems())
		})
	}
}

func TestValidateMaxFileSize(t *testing.T) {
	v := testVisura("$0", "file")
	vals := Values{"$0": FileValue("a.bin", "application/octet-stream", make([]byte, 100))}
	assert.NoError(t, v.Validate(vals, WithMaxFileSize(100)))
	assert.ErrorIs(t, v.Validate(vals, WithMaxFileSize(99)), ErrInvalidFields)
}

func TestValidateRuleUnsupported(t *testing.T) {
	tests := []struct {
		rule   string
		target any
	}{
		{"$0 and $1", new(*RuleSyntaxError)},
		{"$0 && $9", new(*UnknownFieldError)},
		{"", new(*RuleSyntaxError)},
	}
	for _, tt := range tests {
		v := testVisura(tt.rule, "email", "testo")
		// Fail open: presence is left to the server, formats are still checked.
		assert.NoError(t, v.Validate(Values{}), tt.rule)
		err := v.Validate(Values{"$0": "not an e-mail"})
		assert.ErrorIs(t, err, ErrInvalidFields)
		assert.NotErrorIs(t, err, ErrRuleUnsupported)

		err = v.Validate(Values{"$0": "a@b.it", "$1": "x"}, WithStrict())
		assert.ErrorIs(t, err, ErrRuleUnsupported, tt.rule)
		assert.NotErrorIs(t, err, ErrInvalidFields, tt.rule)
		assert.ErrorAs(t, err, tt.target, tt.rule)
		_, rerr := v.Rule()
		assert.ErrorAs(t, rerr, tt.target)
	}
}

func TestValidateUsesCurrentRule(t *testing.T) {
	v := loadA2(t)
	v.JSONStruttura.Validazione = "$0"
	assert.NoError(t, v.Validate(Values{"$0": "Mario"}))
	r, err := v.Rule()
	require.NoError(t, err)
	assert.Equal(t, "$0", r.String())
}

func TestValidateConcurrent(t *testing.T) {
	v := loadA2(t)
	copyOfV := *v // copies share the immutable compiled rule
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			target := v
			if i%2 == 1 {
				target = &copyOfV
			}
			for range 50 {
				assert.NoError(t, target.Validate(a2Applicant(10)))
				assert.Error(t, target.Validate(Values{"$0": "Mario"}))
			}
		}()
	}
	wg.Wait()
}

func TestValuesSetField(t *testing.T) {
	v := loadA2(t)
	vals := Values{}
	require.NoError(t, vals.SetField(v, "cellulare", "333"))
	require.NoError(t, vals.SetField(v, " CODICE FISCALE ", "RSSMRA80A01H501U"))
	assert.Equal(t, Values{"$3": "333", "$4": "RSSMRA80A01H501U"}, vals)
	err := vals.SetField(v, "Telefono", "333")
	assert.ErrorIs(t, err, ErrInvalidArgument)
	assert.NotContains(t, err.Error(), "333")
	assert.NotContains(t, err.Error(), "Telefono", "a name that is not a field may be a value")
	assert.ErrorContains(t, vals.SetField(v, "$9", "x"), `visengine: invalid argument: field "$9" is not a field of this service; its fields, closest first: `)
}

// Issue 22: a mistyped label lists the service's field names, the closest
// first, since labels are not personal data.
func TestValuesSetFieldListsClosestNames(t *testing.T) {
	v := loadA2(t)
	err := Values{}.SetField(v, "Cognme", "Rossi")
	require.ErrorIs(t, err, ErrInvalidArgument)
	assert.ErrorContains(t, err, `its fields, closest first: "Cognome", "Nome", `)
	assert.NotContains(t, err.Error(), "Cognme")
	assert.NotContains(t, err.Error(), "Rossi")
	names := v.FieldNamesClosest(" cellulari ")
	assert.Equal(t, "CELLULARE", names[0])
	assert.Len(t, names, 8)
	assert.Empty(t, (*Visura)(nil).FieldNamesClosest("x"))
	assert.Equal(t, 3, editDistance("kitten", "sitting"))
	assert.Equal(t, 1, editDistance("CITTÀ", "CITTA"))
	assert.Equal(t, 5, editDistance("", "abcde"))
}

// Issue 12: the arguments swapped put the codice fiscale where the name goes;
// the error must not repeat it.
func TestValuesSetFieldSwappedArguments(t *testing.T) {
	v := loadA2(t)
	vals := Values{}
	err := vals.SetField(v, "RSSMRA80A01H501U", "CODICE FISCALE")
	require.ErrorIs(t, err, ErrInvalidArgument)
	assert.ErrorContains(t, err, "visengine: invalid argument: field name given is not a field of this service (not shown: it may be a value); its fields, closest first: ")
	for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		assert.NotContains(t, s, "RSSMRA80A01H501U")
	}
	assert.Empty(t, vals)
}

func TestNilArguments(t *testing.T) {
	v := loadA2(t)
	var nilValues Values
	assert.ErrorIs(t, nilValues.SetField(v, "CELLULARE", "333"), ErrInvalidArgument)
	assert.ErrorIs(t, Values{}.SetField(nil, "CELLULARE", "333"), ErrInvalidArgument)

	var nilVisura *Visura
	assert.ErrorIs(t, nilVisura.Validate(a2Applicant(1)), ErrInvalidArgument)
	assert.NotErrorIs(t, nilVisura.Validate(nil), ErrInvalidFields)
	_, err := nilVisura.Rule()
	assert.ErrorIs(t, err, ErrInvalidArgument)
	_, err = nilVisura.Total()
	assert.ErrorIs(t, err, ErrInvalidArgument)
	assert.Nil(t, nilVisura.Fields())
	_, ok := nilVisura.Field("$0")
	assert.False(t, ok)
	_, ok = nilVisura.Opzione("urgenza")
	assert.False(t, ok)
	var nilStruttura *Struttura
	html, err := nilStruttura.IstruzioniHTML()
	assert.ErrorIs(t, err, ErrInvalidArgument)
	assert.Empty(t, html)

	// Nil values are nothing filled: A2 then lacks every required field.
	err = v.Validate(nil)
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, []string{"$0", "$1", "$2", "$3", "$4", "$5", "$6"}, ve.Missing.Required)
	assert.Nil(t, (*ValidationError)(nil).Problems())
}

func TestFileValue(t *testing.T) {
	assert.Equal(t, "a.txt|data:text/plain;base64,aGVsbG8=", FileValue("a.txt", "text/plain", []byte("hello")))
}

func TestValidationErrorAlternatives(t *testing.T) {
	v := testVisura("$0 && ($1 || $2 && $3)", "testo", "testo", "testo", "testo")
	v.JSONStruttura.Campi["$1"] = Campo{Nome: "Telefono", Tipo: "testo"}
	err := v.Validate(Values{"$2": "x"})
	assert.EqualError(t, err, `visengine: invalid fields: missing "TESTO" ($0) and one of {"Telefono" ($1)} | {"TESTO" ($3)}`)
	var ve *ValidationError
	require.True(t, errors.As(err, &ve))
	assert.Equal(t, "$0 && ($1 || $3)", ve.Missing.Residual)
	oneOf := `not filled; the rule needs one of {"Telefono" ($1)} | {"TESTO" ($3)}`
	assert.Equal(t, []Problem{
		{"$0", "TESTO", ProblemCodeMissing, "required and not filled"},
		{"$1", "Telefono", ProblemCodeOneOfMissing, oneOf},
		{"$3", "TESTO", ProblemCodeOneOfMissing, oneOf},
	}, ve.Problems())

	// Only alternatives, and a key in several of them listed once.
	v = testVisura("$0 && $1 || $0 && $2 || $3", "testo", "testo", "testo", "testo")
	err = v.Validate(nil)
	assert.EqualError(t, err, `visengine: invalid fields: missing one of {"TESTO" ($3)} | {"TESTO" ($0), "TESTO" ($1)} | {"TESTO" ($0), "TESTO" ($2)}`)
	require.True(t, errors.As(err, &ve))
	var keys []string
	for _, p := range ve.Problems() {
		assert.Equal(t, ProblemCodeOneOfMissing, p.Code)
		keys = append(keys, p.Key)
	}
	assert.Equal(t, []string{"$0", "$1", "$2", "$3"}, keys)
}

func BenchmarkValidateA2(b *testing.B) {
	v := loadA2(b)
	vals := a2Applicant(100 << 10)
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Validate(vals); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateA2SmallFiles(b *testing.B) {
	v := loadA2(b)
	vals := a2Applicant(100)
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Validate(vals); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzValidate: arbitrary values and keys never panic, and neither the
// error's text nor its Problems carry a value: every problem is built from
// the service's keys and labels and from fixed sentences, and a key that is
// not of the form $N has no influence beyond being counted.
func FuzzValidate(f *testing.F) {
	f.Add("Mario", "mario.rossi@example.it", "RSSMRA80A01H501U", FileValue("a.pdf", "application/pdf", []byte("x")), "$7", "")
	f.Add("", "a@b", "rssmra80a01h501u", "a|data:;base64,", "$99", "value")
	f.Add(" ", "<a@b.it>", "RSSMRA80Z99H501U", "|data:a/b;base64,====", "$01", "\xc2\xa0")
	f.Add("Mario", "a@b.it", "RSSMRA80A01H501U", "a|b|data:a/b;base64,AAAA", "RSSMRA80A01H501U", "$4")
	v := loadA2(f)
	f.Fuzz(func(t *testing.T, nome, email, cf, file, key, extra string) {
		vals := Values{"$0": nome, "$2": email, "$4": cf, "$5": file, key: extra}
		err := v.Validate(vals)
		if err == nil {
			return
		}
		var ve *ValidationError
		require.ErrorAs(t, err, &ve)
		require.ErrorIs(t, err, ErrInvalidFields)
		msg := fmt.Sprintf("%+v", err)
		for k, val := range vals {
			if len(val) >= 24 && !strings.Contains(k, val) && strings.Contains(msg, val) {
				t.Fatalf("message contains the value of %s", k)
			}
		}
		for _, p := range ve.Problems() {
			checkProblem(t, v, vals, p)
		}
		if _, isField := v.JSONStruttura.Campi[key]; !isField && !looksLikeKey(key) {
			renamed := Values{"$0": nome, "$2": email, "$4": cf, "$5": file, "\x00other": extra}
			var ve2 *ValidationError
			require.ErrorAs(t, v.Validate(renamed), &ve2)
			require.Equal(t, err.Error(), ve2.Error(), "a hidden key changed the text")
			require.Equal(t, ve.Problems(), ve2.Problems(), "a hidden key changed the problems")
		}
	})
}

// checkProblem fails unless p is made of the service's keys and labels and
// of the fixed sentences Validate uses.
func checkProblem(t *testing.T, v *Visura, vals Values, p Problem) {
	t.Helper()
	require.Contains(t, allProblemCodes, p.Code)
	campo, isField := v.JSONStruttura.Campi[p.Key]
	switch p.Code {
	case ProblemCodeUnknownKey:
		_, given := vals[p.Key]
		require.True(t, p.Key == hiddenKey || looksLikeKey(p.Key) && given && !isField, "key %q", p.Key)
		require.Empty(t, p.Name)
		require.Contains(t, []string{"not a field of this service",
			"not a field of this service; the key is not of the form $N and is not shown, as it may be a value"}, p.Reason)
		return
	case ProblemCodeRuleUnsupported:
		require.Empty(t, p.Key)
		return
	}
	require.True(t, isField, "key %q", p.Key)
	require.Equal(t, campo.Nome, p.Name)
	switch p.Code {
	case ProblemCodeMissing:
		require.Equal(t, "required and not filled", p.Reason)
	case ProblemCodeOneOfMissing:
		rest, ok := strings.CutPrefix(p.Reason, "not filled; the rule needs one of ")
		require.True(t, ok, p.Reason)
		for k, c := range v.JSONStruttura.Campi {
			rest = strings.ReplaceAll(rest, fmt.Sprintf("%q (%s)", c.Nome, k), "")
		}
		require.Empty(t, strings.Trim(rest, "{}|, "), "unexpected text in %q", p.Reason)
	case ProblemCodeBlankAround:
		require.Equal(t, "has leading or trailing blanks", p.Reason)
	default:
		require.True(t, slices.ContainsFunc(itcheck.All(), func(e error) bool { return e.Error() == p.Reason }), p.Reason)
	}
}

func TestValuesFormatHidesValues(t *testing.T) {
	vs := Values{"$4": "RSSMRA80A01H501U", "$2": "mario@example.it"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		s := fmt.Sprintf(verb, vs)
		assert.NotContains(t, s, "RSSMRA80A01H501U", verb)
		assert.NotContains(t, s, "mario@example.it", verb)
		assert.Contains(t, s, "$2 $4", verb)
	}
}

// A value put where the key goes (and the key where the value goes) must not
// bring the codice fiscale or an e-mail address into the error text.
func TestValidationErrorHidesSwappedValues(t *testing.T) {
	v := loadA2(t)
	for _, vals := range []Values{
		{"RSSMRA85M01H501Q": "$4"},
		{"RSSMRA85M01H501Q": "$4", "mario.rossi@example.com": "$2"},
		{"$": "x", "$12345": "x", "$1a": "x", "$-1": "x", "$RSSMRA85M01H501Q": "x"},
	} {
		err := v.Validate(vals)
		var ve *ValidationError
		require.ErrorAs(t, err, &ve)
		for _, s := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err.Error())} {
			for k := range vals {
				assert.NotContains(t, s, fmt.Sprintf("%q", k))
			}
			assert.NotContains(t, s, "RSSMRA85M01H501Q")
			assert.NotContains(t, s, "mario.rossi")
			assert.Contains(t, s, fmt.Sprintf("unknown keys: %d not of the form $N", len(vals)))
		}
	}
	err := v.Validate(Values{"$77": "x", "$1234": "y", "RSSMRA85M01H501Q": "$4"})
	assert.Contains(t, err.Error(), `unknown keys "$77", "$1234" and 1 other(s) not of the form $N`, "by key number")
	assert.NotContains(t, err.Error(), "RSSMRA85M01H501Q")
}

// allProblemCodes is every documented ProblemCode.
var allProblemCodes = []ProblemCode{ProblemCodeMissing, ProblemCodeOneOfMissing, ProblemCodeUnknownKey,
	ProblemCodeRuleUnsupported, ProblemCodeBlankAround, ProblemCodeBadLength, ProblemCodeBadFormat,
	ProblemCodeCheckChar, ProblemCodeBadBirthDate, ProblemCodeBadDate, ProblemCodeBadEmail, ProblemCodeBadFileName,
	ProblemCodeBadMIMEType, ProblemCodeEmptyFile, ProblemCodeTooLarge, ProblemCodeBadBase64}

// Every reason of the field checks gets a documented code, chosen from its
// kind (never from its text), and only format defects fall to bad_format.
func TestProblemCodesCoverEveryReason(t *testing.T) {
	seen := map[ProblemCode]bool{}
	for _, c := range allProblemCodes {
		assert.False(t, seen[c], "duplicate code %q", c)
		seen[c] = true
		assert.Regexp(t, `^[a-z][a-z0-9_]*$`, string(c))
	}
	used := map[ProblemCode]bool{}
	for _, reason := range itcheck.All() {
		k := itcheck.KindOf(reason)
		code := codeOf(k)
		assert.Contains(t, allProblemCodes, code, "%q", reason)
		assert.Equal(t, k == itcheck.KindFormat, code == ProblemCodeBadFormat, "%q", reason)
		used[code] = true
	}
	for _, c := range allProblemCodes[5:] {
		assert.True(t, used[c], "code %q is not produced by any check", c)
	}
}

func TestProblemJSON(t *testing.T) {
	b, err := json.Marshal(Problem{Key: "$4", Name: "CODICE FISCALE", Code: ProblemCodeCheckChar, Reason: "r"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"key":"$4","name":"CODICE FISCALE","code":"check_char","reason":"r"}`, string(b))
}

// A rule that cannot be checked is reported with one "visengine:" prefix,
// alone or beside field problems, and first among the problems.
func TestValidateStrictMessages(t *testing.T) {
	v := testVisura("$0 | $1", "email", "testo")
	err := v.Validate(Values{"$0": "a@b.it"}, WithStrict())
	assert.EqualError(t, err, `visengine: validazione rule not supported: validazione: single "|" at byte 3 (did you mean "||"?)`)
	var se *RuleSyntaxError
	assert.ErrorAs(t, err, &se)

	err = v.Validate(Values{"$0": "x", "$7": "y"}, WithStrict())
	assert.EqualError(t, err, `visengine: invalid fields: "EMAIL" ($0): e-mail must be a bare address such as name@example.it; `+
		`unknown keys "$7"; validazione rule not supported: validazione: single "|" at byte 3 (did you mean "||"?)`)
	assert.ErrorIs(t, err, ErrInvalidFields)
	assert.ErrorIs(t, err, ErrRuleUnsupported)
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, []Problem{
		{"", "", ProblemCodeRuleUnsupported, `the service's rule cannot be checked locally: validazione: single "|" at byte 3 (did you mean "||"?)`},
		{"$0", "EMAIL", ProblemCodeBadEmail, "e-mail must be a bare address such as name@example.it"},
		{"$7", "", ProblemCodeUnknownKey, "not a field of this service"},
	}, ve.Problems())
	assert.Equal(t, 1, strings.Count(ve.Rule.Error(), "visengine:"), ve.Rule.Error())

	v = testVisura("$0 && $9", "testo")
	err = v.Validate(Values{"$0": "x"}, WithStrict())
	assert.EqualError(t, err, "visengine: validazione rule not supported: validazione names $9, which is not a field of the document")
	assert.ErrorAs(t, err, new(*UnknownFieldError))
}

// The texts of the errors are English: no word of the old Italian messages.
func TestValidationErrorEnglish(t *testing.T) {
	v := testVisura("$0 && ($1 || $2)", "testo", "testo", "testo")
	err := v.Validate(Values{"$9": "x"})
	require.Error(t, err)
	for _, word := range []string{"manca", "serve", "uno tra", "«", "»", " e {"} {
		assert.NotContains(t, err.Error(), word)
	}
	assert.EqualError(t, err, `visengine: invalid fields: missing "TESTO" ($0) and one of {"TESTO" ($1)} | {"TESTO" ($2)}; unknown keys "$9"`)
}

func TestFileValueBase64(t *testing.T) {
	content := []byte("%PDF-1.7 \x00\xff binary!") // 19 bytes: padded with "=="
	b64 := base64.StdEncoding.EncodeToString(content)
	got, err := FileValueBase64("documento.pdf", "application/pdf", b64)
	require.NoError(t, err)
	assert.Equal(t, FileValue("documento.pdf", "application/pdf", content), got)
	assert.NoError(t, testVisura("$0", "file").Validate(Values{"$0": got}))

	tests := []struct{ name, mime, b64, want string }{
		{"", "application/pdf", b64, "file name is empty"},
		{"a|b.pdf", "application/pdf", b64, "file name must not contain"},
		{"a\nb.pdf", "application/pdf", b64, "file name must not contain"},
		{"fattura\u202efdp.exe", "application/pdf", b64, "file name must not contain"},
		{"a.pdf", "", b64, "file MIME type"},
		{"a.pdf", "application/pdf;charset=x", b64, "file MIME type"},
		{"a.pdf", "application/pdf|x", b64, "file MIME type"},
		{"a.pdf", "pdf", b64, "file MIME type"},
		{"a.pdf", "application/pdf", "", "file content is empty"},
		{"a.pdf", "application/pdf", strings.TrimRight(b64, "="), "not a multiple of 4"},
		{"a.pdf", "application/pdf", b64[:8] + "\n" + b64[8:], "file content"},
		{"a.pdf", "application/pdf", "SECRET-CONTENT-_=", "file content"},
		{"a.pdf", "application/pdf", "SECRETCONTENT-_A", "not valid standard base64"},
		{"a.pdf", "application/pdf", "data:application/pdf;base64," + b64, "file content"},
	}
	for _, tt := range tests {
		out, err := FileValueBase64(tt.name, tt.mime, tt.b64)
		assert.Empty(t, out)
		require.ErrorIs(t, err, ErrInvalidArgument, "%q %q", tt.name, tt.mime)
		assert.Contains(t, err.Error(), tt.want)
		assert.True(t, strings.HasPrefix(err.Error(), "visengine: invalid argument: "), err.Error())
		assert.Equal(t, 1, strings.Count(err.Error(), "visengine:"))
		for _, arg := range []string{tt.name, tt.mime, tt.b64} {
			if len(arg) > 3 {
				assert.NotContains(t, err.Error(), arg)
			}
		}
		assert.NotContains(t, err.Error(), "SECRET")
	}
}

// FileValueBase64 copies the content once, into its result, and decodes
// nothing: one allocation whatever the size.
func TestFileValueBase64Allocations(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString(make([]byte, 1<<20))
	allocs := testing.AllocsPerRun(10, func() {
		if _, err := FileValueBase64("a.pdf", "application/pdf", b64); err != nil {
			t.Fatal(err)
		}
	})
	assert.Equal(t, 1.0, allocs)
}

func BenchmarkFileValueBase64(b *testing.B) {
	for _, size := range []int{100 << 10, 4 << 20} {
		b64 := base64.StdEncoding.EncodeToString(make([]byte, size))
		b.Run(fmt.Sprintf("%dKiB/scan", size>>10), func(b *testing.B) {
			b.SetBytes(int64(len(b64)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := FileValueBase64("a.pdf", "application/pdf", b64); err != nil {
					b.Fatal(err)
				}
			}
		})
		// The approach FileValueBase64 avoids: decode to check, then build
		// the value with FileValue (which encodes again).
		b.Run(fmt.Sprintf("%dKiB/decode-reencode", size>>10), func(b *testing.B) {
			b.SetBytes(int64(len(b64)))
			b.ReportAllocs()
			for b.Loop() {
				raw, err := base64.StdEncoding.DecodeString(b64)
				if err != nil {
					b.Fatal(err)
				}
				_ = FileValue("a.pdf", "application/pdf", raw)
			}
		})
		// Decoding only to check, keeping the caller's text.
		b.Run(fmt.Sprintf("%dKiB/decode-check", size>>10), func(b *testing.B) {
			b.SetBytes(int64(len(b64)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := base64.StdEncoding.DecodeString(b64); err != nil {
					b.Fatal(err)
				}
				_ = "a.pdf|data:application/pdf;base64," + b64
			}
		})
	}
}

// FuzzFileValueBase64: no panic; what is accepted is exactly what
// encoding/base64 decodes (without line breaks) and passes Validate's file
// check; what is refused is an ErrInvalidArgument without the arguments.
func FuzzFileValueBase64(f *testing.F) {
	f.Add("documento.pdf", "application/pdf", "aGVsbG8=")
	f.Add("a|b", "text/plain", "aGVsbG8=")
	f.Add("a", "text/plain;x", "aGVs\nbG8=")
	f.Add("a", "a/b", "====")
	f.Add("\u202e", "a/b", "aA==")
	f.Fuzz(func(t *testing.T, name, mime, b64 string) {
		out, err := FileValueBase64(name, mime, b64)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidArgument)
			require.Empty(t, out)
			msg := fmt.Sprintf("%+v", err)
			for _, arg := range []string{name, mime, b64} {
				if len(arg) >= 8 && strings.Contains(msg, arg) {
					t.Fatalf("error %q repeats an argument", msg)
				}
			}
			return
		}
		raw, derr := base64.StdEncoding.DecodeString(b64)
		require.NoError(t, derr, "accepted what encoding/base64 refuses")
		require.NotEmpty(t, raw)
		require.False(t, strings.ContainsAny(b64, "\r\n"))
		// The text is kept as sent: non-zero padding bits ("001=") decode
		// like encoding/base64 decodes them, and are not rewritten.
		require.Equal(t, name+"|data:"+mime+";base64,"+b64, out)
		require.NoError(t, itcheck.FileValue(out, int64(len(raw))))
	})
}

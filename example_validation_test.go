package visengine_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strings"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/visenginetest"
)

// exampleA2Visura returns the structure of "Domanda Esame A2 per Carta di Soggiorno" from
// the fake server, as GetVisura returns it from Visengine.
func exampleA2Visura() *visengine.Visura {
	srv := visenginetest.NewServer()
	defer srv.Close()
	v, err := srv.Client().GetVisura(context.Background(), "2631ec9b62135de4186f509fea7d954b")
	if err != nil {
		log.Fatal(err)
	}
	return v
}

// An A2 applicant without the phone number ($3, CELLULARE): Validate says
// what is missing by field name before anything is paid.
func ExampleVisura_Validate() {
	v := exampleA2Visura()

	values := visengine.Values{}
	values.Set("$0", "Mario")
	values.Set("$1", "Rossi")
	_ = values.SetField(v, "Email", "mario.rossi@example.it")
	_ = values.SetField(v, "CODICE FISCALE", "RSSMRA80A01H501U")
	values.Set("$5", visengine.FileValue("documento.pdf", "application/pdf", []byte("%PDF-1.7")))
	values.Set("$6", visengine.FileValue("cf.jpg", "image/jpeg", []byte{0xff, 0xd8}))

	err := v.Validate(values)
	fmt.Println(errors.Is(err, visengine.ErrInvalidFields))
	var ve *visengine.ValidationError
	if errors.As(err, &ve) {
		for _, option := range ve.Missing.Alternatives {
			var names []string
			for _, key := range option {
				names = append(names, ve.Names[key]+" ("+key+")")
			}
			fmt.Println("add:", strings.Join(names, ", "))
		}
	}
	fmt.Println(err)
	// Output:
	// true
	// add: CELLULARE ($3)
	// visengine: invalid fields: missing "CELLULARE" ($3)
}

// SetField fills fields by the labels users see. A name that is not a field
// of the service is refused without being repeated: here the arguments are
// swapped, and the codice fiscale stays out of the error, which lists the
// service's field names instead, the closest first.
func ExampleValues_SetField() {
	v := exampleA2Visura()
	values := visengine.Values{}
	if err := values.SetField(v, "codice fiscale", "RSSMRA80A01H501U"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(values)

	err := values.SetField(v, "RSSMRA80A01H501U", "CODICE FISCALE")
	fmt.Println(errors.Is(err, visengine.ErrInvalidArgument))
	fmt.Println(err)
	// Output:
	// visengine.Values{1 keys: $4}
	// true
	// visengine: invalid argument: field name given is not a field of this service (not shown: it may be a value); its fields, closest first: "Email", "Nome", "CELLULARE", "Cognome", "CODICE FISCALE", "COPIA CODICE FISCALE FRONTE RETRO", "COPIA DOCUMENTO D`IDENTITÀ FRONTE RETRO", "COPIA MANDATO DI ASSISTENZA E RAPPRESENTANZA"
}

// An intake service answers a bad applicant with 422 and the problems as
// JSON: which field, a stable code for the form, a reason in English, and
// never the values themselves.
func ExampleValidationError_Problems() {
	v := exampleA2Visura()
	values := visengine.Values{
		"$0":             "Mario",
		"$1":             "Rossi",
		"$2":             "mario.rossi@example.it",
		"$4":             "RSSMRA80A01H501A", // wrong check character
		"$5":             visengine.FileValue("documento.pdf", "application/pdf", []byte("%PDF-1.7")),
		"$6":             visengine.FileValue("cf.jpg", "image/jpeg", []byte{0xff, 0xd8}),
		"CODICE FISCALE": "RSSMRA80A01H501U", // a label where a key goes
	}
	var ve *visengine.ValidationError
	if !errors.As(v.Validate(values), &ve) {
		log.Fatal("expected a *ValidationError")
	}
	body, err := json.MarshalIndent(map[string]any{"problems": ve.Problems()}, "", "  ")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(http.StatusUnprocessableEntity)
	fmt.Println(string(body))
	// Output:
	// 422
	// {
	//   "problems": [
	//     {
	//       "key": "$3",
	//       "name": "CELLULARE",
	//       "code": "missing",
	//       "reason": "required and not filled"
	//     },
	//     {
	//       "key": "$4",
	//       "name": "CODICE FISCALE",
	//       "code": "check_char",
	//       "reason": "codice fiscale check character is wrong"
	//     },
	//     {
	//       "key": "?",
	//       "name": "",
	//       "code": "unknown_key",
	//       "reason": "not a field of this service; the key is not of the form $N and is not shown, as it may be a value"
	//     }
	//   ]
	// }
}

// An intake form sends the scan already in base64: FileValueBase64 checks it
// in one pass, without decoding it, and builds the field's value.
func ExampleFileValueBase64() {
	scan := base64.StdEncoding.EncodeToString([]byte("%PDF-1.7 …"))
	value, err := visengine.FileValueBase64("documento.pdf", "application/pdf", scan)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.HasPrefix(value, "documento.pdf|data:application/pdf;base64,"))

	// Line breaks, the URL alphabet or a missing "=" are refused, and the
	// error does not repeat the content.
	_, err = visengine.FileValueBase64("documento.pdf", "application/pdf", "JVBERi0xLjcg4oCm\n")
	fmt.Println(errors.Is(err, visengine.ErrInvalidArgument), err)
	_, err = visengine.FileValueBase64("a|b.pdf", "application/pdf", scan)
	fmt.Println(err)
	// Output:
	// true
	// true visengine: invalid argument: file content length is not a multiple of 4 (base64 padding)
	// visengine: invalid argument: file name must not contain "|", control or format characters, or invalid UTF-8
}

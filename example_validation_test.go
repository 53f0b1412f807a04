package visengine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/visenginetest"
)

// An A2 applicant without the phone number ($3, CELLULARE): Validate says
// what is missing by field name before anything is paid.
func ExampleVisura_Validate() {
	b, err := os.ReadFile("testdata/visura_a2.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	var env struct {
		Data visengine.Visura `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		fmt.Println(err)
		return
	}
	v := &env.Data

	values := visengine.Values{}
	values.Set("$0", "Mario")
	values.Set("$1", "Rossi")
	_ = values.SetField(v, "Email", "mario.rossi@example.it")
	_ = values.SetField(v, "CODICE FISCALE", "RSSMRA80A01H501U")
	values.Set("$5", visengine.FileValue("documento.pdf", "application/pdf", []byte("%PDF-1.7")))
	values.Set("$6", visengine.FileValue("cf.jpg", "image/jpeg", []byte{0xff, 0xd8}))

	err = v.Validate(values)
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
	// visengine: invalid fields: manca «CELLULARE» ($3)
}

// Fill a form by the labels the applicant sees rather than by key number;
// printing Values shows the keys, never the values.
func ExampleValues_SetField() {
	srv := visenginetest.NewServer()
	defer srv.Close()
	v, err := srv.Client().GetVisura(context.Background(), a2Hash)
	if err != nil {
		log.Fatal(err)
	}
	values := visengine.Values{}
	if err := values.SetField(v, "codice fiscale", "RSSMRA80A01H501U"); err != nil { // case is ignored
		log.Fatal(err)
	}
	values.Set("$5", visengine.FileValue("documento.pdf", "application/pdf", []byte("%PDF-1.7")))
	err = values.SetField(v, "Telefono", "+39 333 000 0000")
	fmt.Println(errors.Is(err, visengine.ErrInvalidArgument)) // A2 calls it CELLULARE
	fmt.Println(values)
	// Output:
	// true
	// visengine.Values{2 keys: $4 $5}
}

package visengine_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/visenginetest"
)

func ExampleNewClient() {
	// Production is the default; WithSandbox selects the test environment.
	token := os.Getenv("VISENGINE_TOKEN")
	if token == "" {
		token = "your-token"
	}
	c, err := visengine.NewClient(token, visengine.WithSandbox())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.BaseURL())
	// Output: https://test.visengine2.altravia.com
}

func ExampleClient_ListVisure() {
	srv := visenginetest.NewServer() // a fake Visengine with the vendor's catalogue
	defer srv.Close()
	c := srv.Client() // on the real service: visengine.NewClient(token)

	all, err := c.ListVisure(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	patronato := 0
	for _, v := range all {
		if v.NomeCategoria == "Patronato" {
			patronato++
		}
	}
	fmt.Printf("%d services, %d for Patronato\n", len(all), patronato)
	// Output: 92 services, 55 for Patronato
}

func ExampleClient_GetVisura() {
	srv := visenginetest.NewServer()
	defer srv.Close()
	c := srv.Client()

	v, err := c.GetVisura(context.Background(), "2631ec9b62135de4186f509fea7d954b")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(v.NomeVisura)
	for _, f := range v.Fields() {
		fmt.Printf("%s %-12s %s\n", f.Key, f.Tipo, strings.ToLower(f.Nome))
	}
	total, _ := v.Total("urgenza", "assistenza_dedicata")
	fmt.Println("price", v.PrezzoVisura, "with options", total)
	// Output:
	// Domanda Esame A2 per Carta di Soggiorno
	// $0 testo        nome
	// $1 testo        cognome
	// $4 codice_fiscale_persona_fisica codice fiscale
	// $3 testo        cellulare
	// $2 email        email
	// $5 file         copia documento d`identità fronte retro
	// $6 file         copia codice fiscale fronte retro
	// $7 file         copia mandato di assistenza e rappresentanza
	// price €20.00 with options €34.00
}

package visenginetest_test

import (
	"context"
	"fmt"

	"github.com/visengine-go/visengine/visenginetest"
)

func ExampleNewServer() {
	srv := visenginetest.NewServer()
	defer srv.Close()

	c := srv.Client()
	v, err := c.GetVisura(context.Background(), "2631ec9b62135de4186f509fea7d954b")
	if err != nil {
		panic(err)
	}
	fmt.Println(v.NomeVisura, v.PrezzoVisura)
	fmt.Println(v.JSONStruttura.Validazione)
	// Output:
	// Domanda Esame A2 per Carta di Soggiorno €20.00
	// ($0 && $1 && $2 && $3 && $4 && $5 && $6 && $7) || ($0 && $1 && $2 && $3 && $4 && $5 && $6)
}

func ExampleServer_Fault() {
	srv := visenginetest.NewServer()
	defer srv.Close()

	// The first GET /visure answers 503; the client retries.
	srv.Fault("GET", "/visure", visenginetest.Fault{Status: 503, RetryAfter: "0"})
	list, err := srv.Client().ListVisure(context.Background())
	fmt.Println(len(list), err, len(srv.Requests()))
	// Output:
	// 92 <nil> 2
}

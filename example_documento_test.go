package visengine_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/visenginetest"
)

// Download the A2 result into memory and list the files in its zip. For
// large documents, stream to a file with DownloadToFile instead.
func ExampleClient_DownloadDocumento() {
	srv := visenginetest.NewServer()
	defer srv.Close()
	c, ctx := srv.Client(), context.Background()
	v, err := c.GetVisura(ctx, a2Hash)
	if err != nil {
		log.Fatal(err)
	}
	r, err := c.Submit(ctx, v, applicant(v))
	if err != nil {
		log.Fatal(err)
	}
	_ = srv.Complete(r.ID) // on the real service, Wait for it

	var buf bytes.Buffer
	info, err := c.DownloadDocumento(ctx, r.ID, &buf)
	if err != nil {
		log.Fatal(err) // errors.Is(err, visengine.ErrDocumentNotReady): try again later
	}
	archive, err := visengine.OpenZip(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		log.Fatal(err) // errors.Is(err, visengine.ErrUnsafeZip): refused before any write
	}
	fmt.Println(info.Nome == r.ID+".zip", info.Dimensione == int64(buf.Len()))
	for _, f := range archive.Files() {
		fmt.Println(strings.Replace(f.Name, r.ID, "<id>", 1), f.Size > 0)
	}
	// Output:
	// true true
	// <id>.pdf true
}

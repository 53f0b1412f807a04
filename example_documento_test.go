package visengine_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
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

// Save the document of a finished richiesta as out/<id>.zip. Missing
// folders are created (mode 0700, documents hold personal data), and the
// file appears only once the whole document has arrived and checked out.
func ExampleClient_DownloadToFile() {
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

	data, err := os.MkdirTemp("", "visengine-example-") // your service's data folder
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(data)
	path := filepath.Join(data, "out", r.ID+".zip") // out/ does not exist yet
	info, err := c.DownloadToFile(ctx, r.ID, path)
	if err != nil {
		// errors.Is(err, visengine.ErrDocumentNotReady): try again later;
		// an *fs.PathError names path: the disk or the folder failed.
		log.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Nome == r.ID+".zip", st.Size() == info.Dimensione, st.Mode().Perm())
	// Output:
	// true true -rw-------
}

// Check a document before touching its files: OpenZip refuses path
// traversal, links, duplicates and zip bombs before anything is read, and
// reading an entry still checks its size and checksum.
func ExampleOpenZip() {
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
	_ = srv.Complete(r.ID)
	doc, err := c.GetDocumento(ctx, r.ID) // small documents, in memory
	if err != nil {
		log.Fatal(err)
	}

	archive, err := visengine.OpenZip(bytes.NewReader(doc.Data), int64(len(doc.Data)))
	if err != nil {
		log.Fatal(err) // errors.Is(err, visengine.ErrUnsafeZip): refused as a whole
	}
	for _, f := range archive.Files() {
		rc, err := archive.Open(f.Name)
		if err != nil {
			log.Fatal(err)
		}
		head := make([]byte, 5)
		_, err = io.ReadFull(rc, head)
		rc.Close()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(strings.Replace(f.Name, r.ID, "<id>", 1), string(head))
	}

	dir, err := os.MkdirTemp("", "visengine-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := archive.ExtractTo(dir); err != nil { // never overwrites, never leaves dir
		log.Fatal(err)
	}
	extracted, err := os.ReadDir(dir)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(extracted), "file extracted")
	// Output:
	// <id>.pdf %PDF-
	// 1 file extracted
}

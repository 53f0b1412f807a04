package visengine_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/visengine-go/visengine"
)

// documentServer answers GET /documento/{id} with a small zip, encoded the
// way Visengine's PHP backend does ("/" escaped as "\/").
func documentServer() *httptest.Server {
	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	for _, name := range []string{"5f22f5b5065afc21cc60a27a.pdf", "ricevuta.pdf"} {
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)})
		fmt.Fprintf(w, "%%PDF-1.7 %s", name)
	}
	zw.Close()
	file := strings.ReplaceAll(base64.StdEncoding.EncodeToString(zipped.Bytes()), "/", `\/`)
	body := fmt.Sprintf(`{"data":{"nome":"5f22f5b5065afc21cc60a27a.zip","dimensione":%d,"file":"%s"},"success":true,"message":"","error":null}`,
		zipped.Len(), file)
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	}))
}

// Download a richiesta's document into memory and list the files in its zip.
// For large documents, stream to a file with DownloadToFile instead.
func ExampleClient_DownloadDocumento() {
	srv := documentServer()
	defer srv.Close()
	c, err := visengine.NewClient("example-token", visengine.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}

	var buf bytes.Buffer
	info, err := c.DownloadDocumento(context.Background(), "5f22f5b5065afc21cc60a27a", &buf)
	if err != nil {
		log.Fatal(err) // errors.Is(err, visengine.ErrDocumentNotReady): try again later
	}
	archive, err := visengine.OpenZip(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		log.Fatal(err) // errors.Is(err, visengine.ErrUnsafeZip): refused before any write
	}
	fmt.Println(info.Nome)
	for _, f := range archive.Files() {
		fmt.Printf("%s %d bytes %s\n", f.Name, f.Size, f.Modified.UTC().Format(time.DateOnly))
	}
	// Output:
	// 5f22f5b5065afc21cc60a27a.zip
	// 5f22f5b5065afc21cc60a27a.pdf 37 bytes 2026-03-01
	// ricevuta.pdf 21 bytes 2026-03-01
}

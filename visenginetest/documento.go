package visenginetest

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/visengine-go/visengine"
)

// getDocumento is GET /documento/{id}: the zip holding <id>.pdf, base64 in
// the envelope, once the richiesta is "Dati disponibili" or "Visura evasa".
func (s *Server) getDocumento(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !validID(id) {
		fail(w, http.StatusBadRequest, visengine.CodeInvalidIDDocumento, "Invalid id")
		return
	}
	s.mu.Lock()
	rq := s.richieste[id]
	var ready bool
	var nome string
	var at time.Time
	if rq != nil {
		ready, nome, at = rq.documentReady(), rq.svc.v.NomeVisura, rq.readyAt
	}
	s.mu.Unlock()
	switch {
	case rq == nil:
		fail(w, http.StatusNotFound, visengine.CodeRichiestaNotFoundDocumento, "no requests matches this id: "+id)
	case !ready:
		fail(w, http.StatusUnprocessableEntity, visengine.CodeDocumentNotReady, "document not yet available")
	default:
		s.writeDocumento(w, id, nome, at)
	}
}

// writeDocumento writes the envelope by hand so that the base64 text has
// its slashes escaped ("\/"), as PHP's json_encode writes them: clients
// that stream the document must cope with it.
func (s *Server) writeDocumento(w http.ResponseWriter, id, nome string, at time.Time) {
	z, err := documentZip(id, nome, at)
	if err != nil {
		fail(w, http.StatusInternalServerError, codeInternal, "internal error")
		return
	}
	name, _ := marshal(id + ".zip")
	file := strings.ReplaceAll(base64.StdEncoding.EncodeToString(z), "/", `\/`)
	body := `{"data":{"nome":` + string(name) + `,"dimensione":` + strconv.Itoa(len(z)) +
		`,"file":"` + file + `"},"success":true,"message":"","error":null}`
	writeRaw(w, http.StatusOK, []byte(body))
}

// documentZip builds the zip of a richiesta's document.
func documentZip(id, nome string, at time.Time) ([]byte, error) {
	pdf := pdfDocument([]string{
		"Visengine - documento di prova",
		"Servizio: " + strings.TrimSpace(nome),
		"Richiesta: " + id,
		"Data: " + at.UTC().Format("02-01-2006 15:04:05 UTC"),
		"Generato da visenginetest: nessun valore legale.",
	})
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	f, err := zw.CreateHeader(&zip.FileHeader{Name: id + ".pdf", Method: zip.Deflate, Modified: at})
	if err == nil {
		_, err = f.Write(pdf)
	}
	if err == nil {
		err = zw.Close()
	}
	return buf.Bytes(), err
}

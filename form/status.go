package form

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/visengine-go/visengine"
)

// maxEventStream bounds one event stream; the browser's EventSource
// reconnects by itself.
const maxEventStream = 10 * time.Minute

// statusOf reads the richiesta a status token names; ok is false (after a
// 404) for an unknown or expired token.
func (h *handler) statusOf(w http.ResponseWriter, r *http.Request) (id string, ok bool) {
	id, ok = h.store.richiesta(r.PathValue("token"))
	if !ok {
		h.message(w, r, http.StatusNotFound, texts(h.lang)["notFound"], "../")
	}
	return id, ok
}

// view turns a richiesta into the status page's Status.
func (h *handler) view(ric *visengine.Richiesta, token string) *Status {
	s := ric.StatoRichiesta
	esc := url.PathEscape(token)
	return &Status{ID: ric.ID, Stato: string(s), Label: s.Message(h.lang), Ready: s.DocumentReady(),
		Final: s.DocumentReady() || s.Terminal(), Events: esc + "/events", Download: esc + "/documento"}
}

// serveStatus renders the richiesta's progress and, once ready, the link
// to its document.
func (h *handler) serveStatus(w http.ResponseWriter, r *http.Request) {
	id, ok := h.statusOf(w, r)
	if !ok {
		return
	}
	ric, err := h.c.GetRichiesta(r.Context(), id)
	if err != nil {
		h.logError("status", err)
		h.message(w, r, http.StatusBadGateway, texts(h.lang)["unavailable"], "../")
		return
	}
	pg := h.page("../")
	pg.Status = h.view(ric, r.PathValue("token"))
	pg.Message = visengine.OutcomePaid.Message(h.lang)
	pg.Script = template.JS(statusScript)
	h.render(w, http.StatusOK, "status.html", pg)
}

// serveEvents streams the richiesta's state as server-sent events, one
// "stato" event per change, until the document is ready or the richiesta
// ends, the browser leaves, or maxEventStream passes.
func (h *handler) serveEvents(w http.ResponseWriter, r *http.Request) {
	id, ok := h.statusOf(w, r)
	if !ok {
		return
	}
	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	ctx, cancel := context.WithTimeout(r.Context(), maxEventStream)
	defer cancel()
	last := visengine.Stato("\x00")
	for {
		ric, err := h.c.GetRichiesta(ctx, id)
		if err == nil && ric.StatoRichiesta != last {
			last = ric.StatoRichiesta
			b, _ := json.Marshal(h.view(ric, r.PathValue("token")))
			fmt.Fprintf(w, "event: stato\ndata: %s\n\n", b)
			if flusher != nil {
				flusher.Flush()
			}
			if ric.DocumentReady() || ric.Terminal() {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(h.cfg.poll):
		}
	}
}

// serveDocumento downloads the document to a temporary file through the
// SDK (streamed, size-capped, checked to be a zip), opens it with the
// SDK's zip checks (names, entry count, total size, ratio), and only then
// serves it.
func (h *handler) serveDocumento(w http.ResponseWriter, r *http.Request) {
	id, ok := h.statusOf(w, r)
	if !ok {
		return
	}
	f, err := os.CreateTemp(h.cfg.tempDir, "visengine-form-*.zip")
	if err != nil {
		h.logError("documento", err)
		h.message(w, r, http.StatusInternalServerError, texts(h.lang)["unavailable"], "../../")
		return
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := h.fetchDocumento(r.Context(), id, f); err != nil {
		h.logError("documento", err)
		h.message(w, r, http.StatusBadGateway, texts(h.lang)["unavailable"], "../../")
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="documento-`+safeName(id)+`.zip"`)
	http.ServeContent(w, r, "", time.Time{}, f)
}

// fetchDocumento fills f with the document and checks it as a zip.
func (h *handler) fetchDocumento(ctx context.Context, id string, f *os.File) error {
	if _, err := h.c.DownloadDocumento(ctx, id, f); err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		return err
	}
	z, err := visengine.OpenZip(f, st.Size())
	if err != nil {
		return err
	}
	_ = z.Close()
	_, err = f.Seek(0, 0)
	return err
}

// safeName keeps the letters and digits of a richiesta's id, for a file
// name in a header.
func safeName(id string) string {
	b := make([]byte, 0, len(id))
	for i := 0; i < len(id) && len(b) < 64; i++ {
		if c := id[i]; c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			b = append(b, c)
		}
	}
	return string(b)
}

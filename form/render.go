package form

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/form.js
var formScript string

//go:embed static/status.js
var statusScript string

// pageNames are the templates a page is rendered with, each together with
// layout.html.
var pageNames = []string{"form.html", "confirm.html", "status.html", "message.html"}

// templates holds one parsed set per page.
type templates struct{ pages map[string]*template.Template }

// loadTemplates parses the pages, each file taken from custom when it has
// one by that name, else from the embedded templates.
func loadTemplates(custom fs.FS) (*templates, error) {
	read := func(name string) ([]byte, error) {
		if custom != nil {
			b, err := fs.ReadFile(custom, name)
			if err == nil {
				return b, nil
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("form: template %s: %w", name, err)
			}
		}
		return templateFS.ReadFile("templates/" + name)
	}
	layout, err := read("layout.html")
	if err != nil {
		return nil, err
	}
	t := &templates{pages: map[string]*template.Template{}}
	for _, name := range pageNames {
		body, err := read(name)
		if err != nil {
			return nil, err
		}
		p, err := template.New("layout.html").Parse(string(layout))
		if err == nil {
			_, err = p.New(name).Parse(string(body))
		}
		if err != nil {
			return nil, fmt.Errorf("form: template %s: %w", name, err)
		}
		t.pages[name] = p
	}
	return t, nil
}

// page returns the Page fields every page shares.
func (h *handler) page(home string) *Page {
	return &Page{Lang: h.lang.String(), T: texts(h.lang), Title: h.v.NomeVisura,
		Categoria: h.v.NomeCategoria, Home: home, Nonce: newToken()}
}

// render executes the page's template into a buffer first, so a template
// error is a clean 500 instead of half a page, then writes it with a
// Content-Security-Policy allowing only the page's own inline scripts.
func (h *handler) render(w http.ResponseWriter, status int, name string, p *Page) {
	var buf bytes.Buffer
	if err := h.tpl.pages[name].ExecuteTemplate(&buf, "layout.html", p); err != nil {
		h.logError("template "+name, err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+p.Nonce+"'; "+
		"style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; "+
		"frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// message renders a page with one sentence and a link back to the form.
func (h *handler) message(w http.ResponseWriter, _ *http.Request, status int, msg, home string) {
	p := h.page(home)
	p.Message = msg
	h.render(w, status, "message.html", p)
}

// logError logs what went wrong, without personal data: err comes from the
// SDK (whose errors never hold values) or from templates.
func (h *handler) logError(what string, err error) {
	if h.cfg.logger != nil {
		h.cfg.logger.Error("visengine form: "+what, slog.String("error", err.Error()))
	}
}

// choices lists the service's options, checked when chosen.
func (h *handler) choices(chosen []string) []Choice {
	out := make([]Choice, 0, len(h.v.Opzioni))
	for _, o := range h.v.Opzioni {
		label := optionNames[h.lang][o.Tipo]
		if label == "" {
			label = o.Tipo
		}
		c := Choice{Nome: o.Nome, Label: label, Price: o.Prezzo.String()}
		for _, n := range chosen {
			c.Checked = c.Checked || n == o.Nome
		}
		out = append(out, c)
	}
	return out
}

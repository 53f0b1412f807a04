package form

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/visengine-go/visengine"
)

// handler serves the intake of one service.
type handler struct {
	c      *visengine.Client
	v      *visengine.Visura
	cfg    config
	lang   visengine.Lang
	limits Limits
	st     *structure
	tpl    *templates
	store  *store
	mux    *http.ServeMux
}

// New returns the handler serving the intake of the service v through
// client c: the form, its confirmation and payment, and the status pages
// (see the package documentation). v is read once: its fields, rule,
// price and options are laid out now. Errors: a nil client or Visura, an
// unknown language, or a template that does not parse.
func New(c *visengine.Client, v *visengine.Visura, opts ...Option) (http.Handler, error) {
	if c == nil || v == nil {
		return nil, errors.New("form: New needs a client and a visura")
	}
	cfg := config{lang: visengine.Italian, poll: 2 * time.Second,
		accept: "application/pdf,image/jpeg,image/png", now: time.Now}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if !cfg.lang.Known() {
		return nil, errors.New("form: unknown language " + cfg.lang.String())
	}
	h := &handler{c: c, v: v, cfg: cfg, lang: cfg.lang}
	h.limits = cfg.limits.withDefaults(len(v.JSONStruttura.Campi) + len(v.Opzioni) + 1)
	st, err := newStructure(v, h.limits, cfg.accept)
	if err != nil {
		return nil, err
	}
	h.st = st
	if h.tpl, err = loadTemplates(cfg.templates); err != nil {
		return nil, err
	}
	h.store = newStore(h.limits, cfg.now)
	h.routes()
	return h, nil
}

func (h *handler) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", h.serveForm)
	m.HandleFunc("POST /{$}", h.servePost)
	m.HandleFunc("POST /confirm", h.serveConfirm)
	m.HandleFunc("GET /status/{token}", h.serveStatus)
	m.HandleFunc("GET /status/{token}/events", h.serveEvents)
	m.HandleFunc("GET /status/{token}/documento", h.serveDocumento)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.message(w, r, http.StatusNotFound, texts(h.lang)["notFound"], "./")
	})
	h.mux = m
}

// ServeHTTP sets the headers every answer shares and routes the request.
// The log line names the route pattern, never the path: a status token is
// as good as a key to the document.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cache-Control", "no-store")
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	start := h.cfg.now()
	h.mux.ServeHTTP(rec, r)
	if h.cfg.logger != nil {
		_, pattern := h.mux.Handler(r)
		attrs := []slog.Attr{slog.String("method", r.Method), slog.String("page", pattern),
			slog.Int("status", rec.status), slog.Duration("elapsed", h.cfg.now().Sub(start))}
		if rec.outcome != "" {
			attrs = append(attrs, slog.String("outcome", string(rec.outcome)))
		}
		h.cfg.logger.LogAttrs(r.Context(), slog.LevelInfo, "visengine form", attrs...)
	}
}

// statusRecorder keeps the status and the submission's outcome for the log
// line; it passes Flush on, for the event stream.
type statusRecorder struct {
	http.ResponseWriter
	status  int
	outcome visengine.SubmitOutcome
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// setOutcome records the submission's outcome for the log line.
func setOutcome(w http.ResponseWriter, o visengine.SubmitOutcome) {
	if s, ok := w.(*statusRecorder); ok {
		s.outcome = o
	}
}

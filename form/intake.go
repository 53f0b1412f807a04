package form

import (
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/visengine-go/visengine"
)

// serveForm renders the empty form.
func (h *handler) serveForm(w http.ResponseWriter, r *http.Request) {
	h.renderForm(w, r, http.StatusOK, nil, nil)
}

// renderForm renders the form with the values kept from a refused post
// (never files) and the problems next to their fields.
func (h *handler) renderForm(w http.ResponseWriter, r *http.Request, status int, p *posted, problems []visengine.Problem) {
	pg := h.page("./")
	pg.CSRF = h.csrfToken(w, r)
	pg.Fields = slices.Clone(h.st.fields)
	pg.Several, pg.Explain = h.st.several, h.st.explain[h.lang]
	pg.Price = h.v.PrezzoVisura.String()
	pg.Config, pg.Script = h.st.config, template.JS(formScript)
	pg.Ricerca = bool(h.v.HasRicerca)
	var chosen []string
	if p != nil {
		chosen = p.opzioni
	}
	pg.Options = h.choices(chosen)
	for i := range pg.Fields {
		f := &pg.Fields[i]
		if p != nil && !f.File() {
			f.Value = p.values[f.Key]
		}
		for _, pr := range problems {
			if pr.Key == f.Key && f.Error == "" {
				f.Error, f.ErrorCode = pr.Reason, string(pr.Code)
				pg.Errors = append(pg.Errors, Problem{ID: f.ID, Name: f.Name, Message: pr.Reason, Code: string(pr.Code)})
			}
		}
	}
	h.render(w, status, "form.html", pg)
}

// servePost reads and validates the applicant's data: 422 with the
// problems, or the confirmation page. Nothing is sent to Visengine.
func (h *handler) servePost(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.operator(w, r); !ok {
		return
	}
	if !sameOrigin(r) || !hasCSRFCookie(r) { // refused before the body is read
		h.forbidden(w, r)
		return
	}
	p, err := h.readPost(w, r)
	if err != nil {
		h.bodyRefused(w, r, err)
		return
	}
	if !checkCSRF(r, p.csrf) {
		h.forbidden(w, r)
		return
	}
	if problems := h.validate(p); len(problems) > 0 {
		setOutcome(w, visengine.OutcomeInvalid)
		h.renderForm(w, r, http.StatusUnprocessableEntity, p, problems)
		return
	}
	total, err := h.v.Total(p.opzioni...)
	if err != nil { // an option the service does not offer: not from our page
		h.message(w, r, http.StatusBadRequest, texts(h.lang)["badBody"], "./")
		return
	}
	pd := &pending{csrf: p.csrf, values: p.values, files: p.files, opzioni: p.opzioni, total: total}
	if !h.store.add(pd) {
		h.message(w, r, http.StatusServiceUnavailable, texts(h.lang)["unavailable"], "./")
		return
	}
	h.renderConfirm(w, http.StatusOK, pd, "")
}

// validate runs the SDK's checks and adds the problems found while
// reading (a file over the limit), in the page's language.
func (h *handler) validate(p *posted) []visengine.Problem {
	var problems []visengine.Problem
	for key, code := range p.local {
		problems = append(problems, visengine.Problem{Key: key, Code: code, Reason: code.Message(h.lang)})
	}
	err := h.v.Validate(p.values, visengine.WithMaxFileSize(h.limits.MaxFileSize))
	var ve *visengine.ValidationError
	if errors.As(err, &ve) {
		problems = append(problems, ve.ProblemsIn(h.lang)...)
	} else if err != nil {
		problems = append(problems, visengine.Problem{Code: visengine.ProblemCodeRuleUnsupported,
			Reason: visengine.ProblemCodeRuleUnsupported.Message(h.lang)})
	}
	return problems
}

// renderConfirm shows what will be paid for: the filled fields, the
// options and the total.
func (h *handler) renderConfirm(w http.ResponseWriter, status int, pd *pending, msg string) {
	pg := h.page("./")
	pg.Message = msg
	pg.CSRF, pg.FormID = pd.csrf, pd.id
	pg.Price, pg.Total = h.v.PrezzoVisura.String(), pd.total.String()
	for _, c := range h.choices(pd.opzioni) {
		if c.Checked {
			pg.Chosen = append(pg.Chosen, c)
		}
	}
	for _, f := range h.st.fields {
		if name, ok := pd.files[f.Key]; ok {
			pg.Summary = append(pg.Summary, Row{Name: f.Name, Value: name, File: true})
		} else if v := strings.TrimSpace(pd.values[f.Key]); v != "" {
			pg.Summary = append(pg.Summary, Row{Name: f.Name, Value: v})
		}
	}
	h.render(w, status, "confirm.html", pg)
}

// operator asks WithOperator who is making the request; false (after a 403)
// when it refuses.
func (h *handler) operator(w http.ResponseWriter, r *http.Request) (string, bool) {
	if h.cfg.operator == nil {
		return "", true
	}
	op, err := h.cfg.operator(r)
	if err != nil {
		h.forbidden(w, r)
		return "", false
	}
	return op, true
}

func (h *handler) forbidden(w http.ResponseWriter, r *http.Request) {
	h.message(w, r, http.StatusForbidden, texts(h.lang)["forbidden"], "./")
}

// bodyRefused answers a body over a limit (413, naming the limit) or
// unreadable (400).
func (h *handler) bodyRefused(w http.ResponseWriter, r *http.Request, err error) {
	var be *bodyError
	if !errors.As(err, &be) || be.status != http.StatusRequestEntityTooLarge {
		h.message(w, r, http.StatusBadRequest, texts(h.lang)["badBody"], "./")
		return
	}
	limit := map[string]string{"total": sizeText(h.limits.MaxTotalSize), "text": sizeText(h.limits.MaxTextSize),
		"fields": strconv.Itoa(h.limits.MaxFields)}[be.limit]
	h.message(w, r, http.StatusRequestEntityTooLarge, strings.ReplaceAll(texts(h.lang)["tooLarge"], "{limit}", limit), "./")
}

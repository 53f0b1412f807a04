package form

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/visengine-go/visengine"
)

// maxConfirmBody bounds the confirmation's body: two tokens.
const maxConfirmBody = 4 << 10

// serveConfirm pays for a validated form once. The first confirmation of a
// form pays, under the idempotency key "visengine-form:<form id>"; any
// other (a double click, a reload, a replayed POST) waits for it and gets
// the same answer. A refusal that charged nothing lets the applicant
// confirm again; an unknown outcome never pays again from this form.
func (h *handler) serveConfirm(w http.ResponseWriter, r *http.Request) {
	operator, ok := h.operator(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxConfirmBody)
	if err := r.ParseForm(); err != nil {
		h.message(w, r, http.StatusBadRequest, texts(h.lang)["badBody"], "./")
		return
	}
	if !checkCSRF(r, r.PostForm.Get("csrf")) {
		h.forbidden(w, r)
		return
	}
	pd, pay := h.store.claim(r.PostForm.Get("form"), r.PostForm.Get("csrf"))
	if pd == nil {
		h.message(w, r, http.StatusGone, texts(h.lang)["expired"], "./")
		return
	}
	if pay {
		h.pay(r.Context(), pd, operator)
	}
	h.answerConfirm(w, r, pd)
}

// pay submits the form's values and records the outcome. It runs detached
// from the request's cancellation: a browser that gives up must not leave
// a payment half made and the form unable to say how it ended.
func (h *handler) pay(ctx context.Context, pd *pending, operator string) {
	ctx = context.WithoutCancel(ctx)
	opts := append([]visengine.SubmitOption{}, h.cfg.submit...)
	opts = append(opts, visengine.WithOpzioni(pd.opzioni...), visengine.WithIdempotencyKey(idempotencyKey(pd.id)),
		visengine.WithValidation(visengine.WithMaxFileSize(h.limits.MaxFileSize)))
	ric, err := h.c.Submit(ctx, h.v, pd.values, opts...)
	outcome := visengine.SubmitOutcomeOf(err)
	if err != nil {
		h.logError("submit ("+string(outcome)+")", err)
		h.store.finish(pd, outcome, "")
		return
	}
	if h.cfg.onPaid != nil {
		paid := Paid{FormID: pd.id, Operator: operator, Richiesta: ric, Values: pd.values,
			Opzioni: pd.opzioni, Total: pd.total}
		if herr := h.cfg.onPaid(ctx, paid); herr != nil {
			// The hook's error is the integrator's and may hold anything: only its type is logged.
			h.logError("on-paid hook", fmt.Errorf("%T", herr))
		}
	}
	h.store.finish(pd, visengine.OutcomePaid, ric.ID)
}

// idempotencyKey is the key a form's payment is made under.
func idempotencyKey(formID string) string { return "visengine-form:" + formID }

// answerConfirm waits for the form's payment to end, then sends the
// browser to the status page (303) or says why it was not paid.
func (h *handler) answerConfirm(w http.ResponseWriter, r *http.Request, pd *pending) {
	state, outcome, status, done := h.store.snapshot(pd)
	if state == pendingPaying {
		select {
		case <-done:
		case <-r.Context().Done():
			return
		}
		state, outcome, status, _ = h.store.snapshot(pd)
	}
	setOutcome(w, outcome)
	if state == pendingPaid {
		w.Header().Set("Location", "status/"+url.PathEscape(status))
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	code := http.StatusConflict
	switch outcome {
	case visengine.OutcomeInsufficientCredit:
		code = http.StatusPaymentRequired
	case visengine.OutcomeUnknown, visengine.OutcomeFailed, visengine.OutcomeRefused:
		code = http.StatusBadGateway
	case visengine.OutcomeNotSent:
		code = http.StatusServiceUnavailable
	}
	if state == pendingReady { // nothing was charged: the applicant may confirm again
		if again, ok := h.store.copyOf(pd); ok {
			h.renderConfirm(w, code, again, outcome.Message(h.lang))
			return
		}
	}
	h.message(w, r, code, outcome.Message(h.lang), "./")
}

package visengine

import (
	"context"
	"errors"
)

// SubmitOutcome is a stable name for how a submission ended, as an
// applicant or an operator needs to know it: whether it was paid, whether
// anything may have been charged, and whether submitting again is safe.
// [SubmitOutcomeOf] finds it from what Submit returned; [SubmitOutcome.Message]
// says it in a language. New outcomes may be added; one never changes its
// meaning.
type SubmitOutcome string

// The outcomes of a submission.
const (
	// OutcomePaid: the richiesta was closed and paid; follow it.
	OutcomePaid SubmitOutcome = "paid"
	// OutcomeInvalid: the values are not ready (ErrInvalidFields); nothing
	// was sent or charged.
	OutcomeInvalid SubmitOutcome = "invalid"
	// OutcomeInsufficientCredit: the wallet lacks credit; nothing was
	// charged.
	OutcomeInsufficientCredit SubmitOutcome = "insufficient_credit"
	// OutcomeKeyReused: the idempotency key was used before with other
	// values or options (ErrIdempotencyKeyReused); nothing was sent.
	OutcomeKeyReused SubmitOutcome = "key_reused"
	// OutcomeUnknown: the payment may or may not have happened
	// (ErrOutcomeUnknown); do not submit again: resume or reconcile.
	OutcomeUnknown SubmitOutcome = "unknown"
	// OutcomeNotSent: nothing reached Visengine (the context ended first, or
	// an argument was wrong); submitting again is safe.
	OutcomeNotSent SubmitOutcome = "not_sent"
	// OutcomeRefused: Visengine refused the request; nothing was charged.
	OutcomeRefused SubmitOutcome = "refused"
	// OutcomeFailed: any other failure; whether a draft exists is in the
	// error (SubmitError.ID).
	OutcomeFailed SubmitOutcome = "failed"
)

// SubmitOutcomeOf names the outcome of Submit from its error (nil: paid).
// The most cautious reading wins: an error that matches ErrOutcomeUnknown
// is OutcomeUnknown whatever else it matches.
func SubmitOutcomeOf(err error) SubmitOutcome {
	var api *APIError
	switch {
	case err == nil:
		return OutcomePaid
	case errors.Is(err, ErrOutcomeUnknown):
		return OutcomeUnknown
	case errors.Is(err, ErrInvalidFields):
		return OutcomeInvalid
	case errors.Is(err, ErrIdempotencyKeyReused):
		return OutcomeKeyReused
	case errors.Is(err, ErrInsufficientCredit):
		return OutcomeInsufficientCredit
	case errors.As(err, &api):
		return OutcomeRefused
	case errors.Is(err, ErrInvalidArgument), errors.Is(err, context.Canceled),
		errors.Is(err, context.DeadlineExceeded):
		return OutcomeNotSent
	}
	return OutcomeFailed
}

// outcomeMessages holds, per language, the sentence for each outcome.
var outcomeMessages = map[Lang]map[SubmitOutcome]string{
	Italian: {
		OutcomePaid:               "Richiesta inviata e pagata.",
		OutcomeInvalid:            "Alcuni dati non sono validi: correggerli e inviare di nuovo. Non è stato addebitato nulla.",
		OutcomeInsufficientCredit: "Credito insufficiente: non è stato addebitato nulla. Ricaricare il portafoglio e riprovare.",
		OutcomeKeyReused:          "Questo modulo è già stato inviato con dati diversi: non è stato inviato di nuovo.",
		OutcomeUnknown:            "Non sappiamo se il pagamento sia avvenuto: non inviare di nuovo. L'esito va verificato prima di riprovare.",
		OutcomeNotSent:            "La richiesta non è stata inviata: non è stato addebitato nulla. Si può riprovare.",
		OutcomeRefused:            "Visengine ha rifiutato la richiesta: non è stato addebitato nulla.",
		OutcomeFailed:             "L'invio non è riuscito. Verificare lo stato della richiesta prima di riprovare.",
	},
	English: {
		OutcomePaid:               "Request submitted and paid.",
		OutcomeInvalid:            "Some data are not valid: correct them and submit again. Nothing was charged.",
		OutcomeInsufficientCredit: "Insufficient credit: nothing was charged. Top up the wallet and try again.",
		OutcomeKeyReused:          "This form was already submitted with other data: it was not sent again.",
		OutcomeUnknown:            "We do not know whether the payment happened: do not submit again. Check the outcome before retrying.",
		OutcomeNotSent:            "The request was not sent: nothing was charged. It is safe to try again.",
		OutcomeRefused:            "Visengine refused the request: nothing was charged.",
		OutcomeFailed:             "The submission failed. Check the request's state before trying again.",
	},
}

// Message says the outcome in lang (English when lang is not one of
// [Langs]); "" for an outcome the SDK does not know.
func (o SubmitOutcome) Message(lang Lang) string {
	s, _ := text(outcomeMessages, lang, o)
	return s
}

// statoMessages names the documented states in English; in Italian a
// state's name is the wire's own.
var statoMessages = map[Lang]map[Stato]string{
	Italian: {
		StatoInRicerca:       string(StatoInRicerca),
		StatoInErogazione:    string(StatoInErogazione),
		StatoDatiDisponibili: string(StatoDatiDisponibili),
		StatoVisuraEvasa:     string(StatoVisuraEvasa),
		StatoAnnullata:       string(StatoAnnullata),
	},
	English: {
		StatoInRicerca:       "Searching",
		StatoInErogazione:    "In progress",
		StatoDatiDisponibili: "Data available",
		StatoVisuraEvasa:     "Completed",
		StatoAnnullata:       "Cancelled",
	},
}

// Message names the state in lang; a state the SDK does not know is given
// as Visengine sent it.
func (s Stato) Message(lang Lang) string {
	if m, ok := text(statoMessages, lang, s); ok {
		return m
	}
	return string(s)
}

// SubmitOutcomes lists every SubmitOutcome, in the order of their
// declaration.
func SubmitOutcomes() []SubmitOutcome {
	return []SubmitOutcome{OutcomePaid, OutcomeInvalid, OutcomeInsufficientCredit, OutcomeKeyReused,
		OutcomeUnknown, OutcomeNotSent, OutcomeRefused, OutcomeFailed}
}

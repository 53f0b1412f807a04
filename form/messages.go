package form

import "github.com/visengine-go/visengine"

// uiText holds the words of the pages, per language, by a stable name. The
// messages about the applicant's data come from the SDK's own tables
// (visengine.ProblemCode.Message, visengine.SubmitOutcome.Message).
var uiText = map[visengine.Lang]map[string]string{
	visengine.Italian: {
		"price":        "Prezzo",
		"options":      "Opzioni",
		"total":        "Totale",
		"submit":       "Controlla e continua",
		"confirm":      "Conferma e paga",
		"cancel":       "Annulla e ricomincia",
		"required":     "obbligatorio",
		"optional":     "facoltativo",
		"errorSummary": "Ci sono problemi con i dati inseriti",
		"maxsize":      "massimo",
		"fileAgain":    "Per sicurezza i file vanno scelti di nuovo.",
		"confirmTitle": "Conferma la richiesta",
		"confirmIntro": "Controlla i dati: confermando, il portafoglio viene addebitato.",
		"field":        "Campo",
		"value":        "Valore",
		"statusTitle":  "Stato della richiesta",
		"state":        "Stato",
		"download":     "Scarica il documento (zip)",
		"waiting":      "La pagina si aggiorna da sola finché il documento non è pronto.",
		"expired":      "Questo modulo è scaduto o è già stato usato in un'altra finestra: ricomincia.",
		"forbidden":    "Richiesta rifiutata: il modulo non è valido (token di sicurezza mancante o errato). Ricarica la pagina e riprova.",
		"tooLarge":     "I dati inviati superano i limiti ({limit}).",
		"badBody":      "Il modulo inviato non è leggibile.",
		"notFound":     "Pagina non trovata.",
		"unavailable":  "Servizio momentaneamente non disponibile: riprova tra poco.",
		"back":         "Torna al modulo",
		"noOptions":    "nessuna",
		"file":         "file",
		"alternatives": "Campi alternativi",
		"requestID":    "Numero della richiesta",
		"ricerca":      "Questo servizio prevede una ricerca: la scelta del risultato si fa dal gestionale.",
	},
	visengine.English: {
		"price":        "Price",
		"options":      "Options",
		"total":        "Total",
		"submit":       "Check and continue",
		"confirm":      "Confirm and pay",
		"cancel":       "Cancel and start again",
		"required":     "required",
		"optional":     "optional",
		"errorSummary": "There is a problem with the data entered",
		"maxsize":      "at most",
		"fileAgain":    "For safety, files must be chosen again.",
		"confirmTitle": "Confirm the request",
		"confirmIntro": "Check the data: confirming charges the wallet.",
		"field":        "Field",
		"value":        "Value",
		"statusTitle":  "Request status",
		"state":        "State",
		"download":     "Download the document (zip)",
		"waiting":      "This page updates itself until the document is ready.",
		"expired":      "This form has expired or was already used in another window: start again.",
		"forbidden":    "Request refused: the form is not valid (security token missing or wrong). Reload the page and try again.",
		"tooLarge":     "The data sent exceed the limits ({limit}).",
		"badBody":      "The form sent cannot be read.",
		"notFound":     "Page not found.",
		"unavailable":  "Service temporarily unavailable: try again shortly.",
		"back":         "Back to the form",
		"noOptions":    "none",
		"file":         "file",
		"alternatives": "Alternative fields",
		"requestID":    "Request number",
		"ricerca":      "This service has a search step: the result is chosen from the back office.",
	},
}

// optionNames names the options Visengine offers, per language; an option
// not listed is shown by its tipo.
var optionNames = map[visengine.Lang]map[string]string{
	visengine.Italian: {"urgenza": "Urgenza", "assistenza_dedicata": "Assistenza dedicata"},
	visengine.English: {"urgenza": "Urgent handling", "assistenza_dedicata": "Dedicated assistance"},
}

// texts returns the table of lang (Italian, the default, when unknown).
func texts(lang visengine.Lang) map[string]string {
	if t, ok := uiText[lang]; ok {
		return t
	}
	return uiText[visengine.Italian]
}

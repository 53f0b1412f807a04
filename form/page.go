package form

import "html/template"

// Page is what every template receives. Fields not relevant to a page are
// zero.
type Page struct {
	Lang      string            // "it" or "en", for <html lang>
	T         map[string]string // the words of the pages, by name (messages.go)
	Title     string            // the service's name
	Categoria string            // the service's category
	Home      string            // relative link to the form
	Nonce     string            // the nonce of the page's inline scripts (CSP)

	// The form (form.html).
	Fields  []Field
	Explain string // the rule in words, when it has several alternatives
	Several bool
	Price   string   // the document's price, "€20.00"
	Options []Choice // the service's paid options
	CSRF    string   // the hidden field's value
	Errors  []Problem
	Config  string      // JSON for the script (data-config)
	Script  template.JS // the checks run in the browser
	Ricerca bool        // the service has a search step

	// The confirmation (confirm.html).
	FormID  string
	Total   string
	Chosen  []Choice
	Summary []Row

	// The status page (status.html) and messages (message.html).
	Status  *Status
	Message string
}

// Choice is one paid option of the service.
type Choice struct {
	Nome    string // its key in a request, "opzione_0"
	Label   string // its name for people, "Urgenza"
	Price   string // "€4.00"
	Checked bool
}

// Problem is one problem with the posted data, for the error summary.
type Problem struct {
	ID      string // the control's id, for the link
	Name    string // the field's label
	Message string // what is wrong, in the page's language
	Code    string // the visengine.ProblemCode
}

// Row is one filled field on the confirmation page.
type Row struct {
	Name  string
	Value string // the text entered, or the file's name
	File  bool
}

// Status is a richiesta's progress on the status page.
type Status struct {
	ID       string // the richiesta's id (Visengine's, not personal)
	Stato    string // stato_richiesta as Visengine sends it
	Label    string // the state in the page's language
	Ready    bool   // the document can be downloaded
	Final    bool   // nothing more to wait for (ready, done or cancelled)
	Events   string // relative URL of the event stream
	Download string // relative URL of the document
}

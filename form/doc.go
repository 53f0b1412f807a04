// Package form serves the intake of one Visengine service as a web page:
// the applicant's data and scans are taken, checked, priced, confirmed and
// paid for once, and the richiesta is followed until its document can be
// downloaded. It is what a CAF or Patronato integrator would otherwise
// write by hand around the SDK, built on visengine's public API only.
//
//	h, err := form.New(client, visura, form.WithOnPaid(store))
//	http.Handle("/a2/", http.StripPrefix("/a2", h))
//
// Like http.FileServer, the handler serves a tree under whatever prefix it
// is mounted at; mount it on a path ending in "/" (its links are relative).
//
// # Pages
//
//   - GET /: the form, in Italian unless WithLang says otherwise. Each field
//     of json_struttura, in display order, is a labelled control with its
//     istruzioni as a hint; the input type follows the field's tipo (e-mail,
//     date, codice fiscale and partita IVA patterns, files with accept and
//     the size limit); the fields every alternative of the validazione rule
//     needs are marked required, and the alternatives are explained in words
//     when there are several. The price and the service's options are
//     shown. The page works without JavaScript; with it, the same checks
//     the server makes (the rule, the formats, the codice fiscale's check
//     character, file sizes) run before anything is uploaded.
//   - POST /: the multipart body is streamed into visengine.Values within
//     [Limits], then validated by [visengine.Visura.Validate]. Problems are
//     shown next to their fields and in a summary at the top (422), with
//     the entered values kept (files must be chosen again). Valid data get
//     a confirmation page with the total price and the chosen options.
//   - POST /confirm: pays with [visengine.Client.Submit] under an
//     idempotency key bound to that form ([visengine.WithIdempotencyKey]);
//     a double click, a reload or a replayed POST pays once, and a second
//     confirmation of a form waits for the first. Then 303 to the status
//     page.
//   - GET /status/{token}: the richiesta's progress, followed with
//     server-sent events (GET /status/{token}/events; without JavaScript
//     the page refreshes itself), and the document, once ready, at
//     GET /status/{token}/documento through the SDK's safe download (the zip
//     is downloaded to a temporary file and opened with its checks before
//     it is served). The token is random and names nothing personal.
//
// # Safety
//
// Every POST needs the form's CSRF token (a cookie and a hidden field, as in
// gorilla/csrf's double-submit pattern) and must not come from another
// origin (Sec-Fetch-Site, Origin): otherwise 403 and nothing is sent. No
// personal data goes in a URL, a log line (WithLogger: method, page,
// status, outcome) or the status page's address. Values wait for
// confirmation in memory only, for [Limits].PendingTTL, and are dropped once
// paid.
//
// # Hooks and look
//
// [WithOperator] says who the operator is (and may refuse a request),
// [WithOnPaid] receives what was paid (to store it), [WithTemplates]
// replaces any of the page templates (html/template, the embedded ones in
// templates/ are the model), [WithSubmitOptions] passes options to Submit
// (a journal, a callback).
package form

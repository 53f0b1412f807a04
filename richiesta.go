package visengine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Stato is a richiesta's progress (stato_richiesta). Values other than the
// constants are kept as they come, so a new state does not break decoding.
type Stato string

// The states Visengine documents, in the order a richiesta goes through them.
const (
	StatoInRicerca       Stato = "In ricerca"       // a search step is running or awaits a choice
	StatoInErogazione    Stato = "In erogazione"    // the document is being produced
	StatoDatiDisponibili Stato = "Dati disponibili" // data ready, the document can be downloaded
	StatoVisuraEvasa     Stato = "Visura evasa"     // done
	StatoAnnullata       Stato = "Annullata"        // cancelled
)

// DocumentReady reports whether GET /documento can succeed.
func (s Stato) DocumentReady() bool { return s == StatoDatiDisponibili || s == StatoVisuraEvasa }

// Terminal reports whether the richiesta will not change any more.
func (s Stato) Terminal() bool { return s == StatoVisuraEvasa || s == StatoAnnullata }

// Known reports whether s is one of the documented states.
func (s Stato) Known() bool {
	switch s {
	case StatoInRicerca, StatoInErogazione, StatoDatiDisponibili, StatoVisuraEvasa, StatoAnnullata:
		return true
	}
	return false
}

// Transaction states of a richiesta (its "state" field).
const (
	StateDraft     = 0 // open: fields editable, nothing validated or charged
	StateSubmitted = 1 // closed: validated, charged and started
)

// Richiesta is a request for a document (GET /richiesta/{id}). Its Format
// prints identifiers and progress only: the applicant's values, the owner's
// address and the callback secret are left out of %v and %+v.
type Richiesta struct {
	ID                  string         // _id
	State               int            // StateDraft or StateSubmitted
	HashVisura          string         // the service
	Nome                string         // the service's name when requested
	Callback            string         // Visengine's provider routine, not a webhook
	Ricerca             bool           // the service has a search step
	IDRicerca           string         // the chosen search, "" until chosen
	PrezzoVisura        Price          // price of the document
	PrezzoRicerca       Price          // price of the search step
	IndiceRicerca       *int           // the chosen result, nil until chosen
	StatoRichiesta      Stato          // progress
	EmailTarget         string         // where the document is e-mailed, "" if nowhere
	Allegati            []string       // names of the produced files
	TimestampCreation   time.Time      // creation
	TimestampLastUpdate time.Time      // last change
	TimestampStati      TimestampStati // when each state was reached
	CallbackData        *Callback      // the callback asked for; nil when the wire has false
	Opzioni             []Opzione      // chosen options, as far as the wire tells
	Owner               string         // the account's e-mail
	Sincrona            bool           // undocumented by Visengine
	Ricerche            []Ricerca      // the searches, the first being the submitted values
	Esito               Esito          // the provider's outcome
	MotivoAnnullamento  string         // why it was cancelled (legacy, may be absent)
}

// DocumentReady reports whether the document can be downloaded.
func (r *Richiesta) DocumentReady() bool { return r.StatoRichiesta.DocumentReady() }

// Terminal reports whether the richiesta will not change any more.
func (r *Richiesta) Terminal() bool { return r.StatoRichiesta.Terminal() }

// SearchResultsReady reports whether a search step waits for a choice: the
// richiesta is "In ricerca" and its last search is done with results.
func (r *Richiesta) SearchResultsReady() bool {
	last := r.LastRicerca()
	return r.StatoRichiesta == StatoInRicerca && last != nil &&
		last.StatoRicerca == RicercaEvasa && len(last.Risultati) > 0
}

// LastRicerca returns the most recent search, or nil.
func (r *Richiesta) LastRicerca() *Ricerca {
	if len(r.Ricerche) == 0 {
		return nil
	}
	return &r.Ricerche[len(r.Ricerche)-1]
}

// Format prints a summary without personal data, for every verb.
func (r Richiesta) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "visengine.Richiesta{ID:%s State:%d HashVisura:%s Stato:%q Prezzo:%s Allegati:%d Ricerche:%d}",
		r.ID, r.State, r.HashVisura, r.StatoRichiesta, r.PrezzoVisura, len(r.Allegati), len(r.Ricerche))
}

// TimestampStati says when each state was reached; zero when not (yet).
type TimestampStati struct {
	InRicerca       time.Time
	InErogazione    time.Time
	DatiDisponibili time.Time
	VisuraEvasa     time.Time
	Annullata       time.Time
}

// At returns when s was reached, or the zero time.
func (t TimestampStati) At(s Stato) time.Time {
	switch s {
	case StatoInRicerca:
		return t.InRicerca
	case StatoInErogazione:
		return t.InErogazione
	case StatoDatiDisponibili:
		return t.DatiDisponibili
	case StatoVisuraEvasa:
		return t.VisuraEvasa
	case StatoAnnullata:
		return t.Annullata
	}
	return time.Time{}
}

// Esito is the provider's outcome: codice "0" and info "OK" on success.
type Esito struct {
	Codice string `json:"codice"`
	Info   string `json:"info"`
}

// States of a search (stato_ricerca) seen on the wire.
const (
	RicercaEvasa  = "Ricerca evasa"            // done
	RicercaErrore = "Errore su richiesta dati" // the input found nothing or was refused
)

// Ricerca is one search of a richiesta. json_ricerca and json_risultato come
// as JSON inside strings; they are decoded into Valori and Risultati, and kept
// raw too. An undecodable inner string leaves its decoded field nil rather
// than failing the whole richiesta.
type Ricerca struct {
	IDRicerca     string            // "<_id>_<n>"
	StatoRicerca  string            // RicercaEvasa, RicercaErrore or another value
	JSONRicerca   string            // the submitted values, as JSON text
	JSONMappato   map[string]any    // each field's nome mapped to its value
	JSONRisultato string            // candidate results, as JSON text ("" when null)
	Valori        Values            // JSONRicerca decoded
	Risultati     map[int]Risultato // JSONRisultato decoded, keyed by N of "indice_N"
}

// Format prints the search's id and state only: its values are personal data.
func (r Ricerca) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "visengine.Ricerca{IDRicerca:%s StatoRicerca:%q Risultati:%d}", r.IDRicerca, r.StatoRicerca, len(r.Risultati))
}

// Indici returns the result numbers in ascending order.
func (r *Ricerca) Indici() []int {
	out := make([]int, 0, len(r.Risultati))
	for n := range r.Risultati {
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}

// Risultato is one candidate of a search, with provider-specific keys such as
// Cciaa, NRea, Denominazione, CodFisc.
type Risultato map[string]any

// String returns the value of key as text ("" when absent); nested objects
// such as NatGiu give their "!" text.
func (r Risultato) String(key string) string {
	switch v := r[key].(type) {
	case string:
		return v
	case map[string]any:
		s, _ := v["!"].(string)
		return s
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// RichiestaSummary is one entry of GET /richiesta.
type RichiestaSummary struct {
	ID                  string
	State               int
	HashVisura          string
	Nome                string
	Ricerca             bool
	IDRicerca           string
	PrezzoVisura        Price
	PrezzoRicerca       Price
	IndiceRicerca       *int
	StatoRichiesta      Stato
	EmailTarget         string
	TimestampCreation   time.Time
	TimestampLastUpdate time.Time
	Owner               string
	Sincrona            bool
}

// Format prints identifiers and progress only, for every verb: the owner's
// and the target's e-mail addresses are left out of %v, %+v and %#v.
func (s RichiestaSummary) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "visengine.RichiestaSummary{ID:%s State:%d HashVisura:%s Stato:%q Prezzo:%s}",
		s.ID, s.State, s.HashVisura, s.StatoRichiesta, s.PrezzoVisura)
}

// wireRichiesta is the JSON shape; Richiesta is decoded through it so the
// public type can use time.Time, *Callback and decoded searches.
//
// Visengine is a PHP backend: where a string or an object is expected it may
// send false, null, a number, [] (PHP's empty array) or {}. Every field is
// therefore decoded leniently through the loose* types below, which never
// fail. Only what would be dangerous to get wrong is strict: _id (a richiesta
// we cannot address), state (draft or charged) and, when they hold something
// other than an empty shape, the prices and indice_ricerca.
type wireRichiesta struct {
	ID                  json.RawMessage    `json:"_id"`
	State               json.RawMessage    `json:"state"`
	HashVisura          looseString        `json:"hash_visura"`
	Nome                looseString        `json:"nome"`
	Callback            looseString        `json:"callback"`
	Ricerca             looseFlag          `json:"ricerca"`
	IDRicerca           looseString        `json:"id_ricerca"`
	PrezzoVisura        loosePrice         `json:"prezzo_visura"`
	PrezzoRicerca       loosePrice         `json:"prezzo_ricerca"`
	IndiceRicerca       looseIndex         `json:"indice_ricerca"`
	StatoRichiesta      looseString        `json:"stato_richiesta"`
	EmailTarget         looseString        `json:"email_target"`
	Allegati            looseStrings       `json:"allegati"`
	TimestampCreation   unixTime           `json:"timestamp_creation"`
	TimestampLastUpdate unixTime           `json:"timestamp_last_update"`
	TimestampStati      wireTimestampStati `json:"timestamp_stati"`
	CallbackData        json.RawMessage    `json:"callback_data"`
	Opzioni             json.RawMessage    `json:"opzioni"`
	Owner               looseString        `json:"owner"`
	Sincrona            looseFlag          `json:"sincrona"`
	Ricerche            wireRicerche       `json:"ricerche"`
	Esito               wireEsito          `json:"esito"`
	MotivoAnnullamento  looseString        `json:"motivo_annullamento"`
}

type wireRicerca struct {
	IDRicerca     looseString `json:"id_ricerca"`
	StatoRicerca  looseString `json:"stato_ricerca"`
	JSONRicerca   jsonText    `json:"json_ricerca"`
	JSONMappato   looseObject `json:"json_mappato"`
	JSONRisultato jsonText    `json:"json_risultato"`
}

// wireRicerche is the ricerche list: anything but an array is no searches,
// and entries that are not objects are skipped.
type wireRicerche []wireRicerca

func (w *wireRicerche) UnmarshalJSON(b []byte) error {
	*w = nil
	var items []json.RawMessage
	if jsonKind(b) != '[' || json.Unmarshal(b, &items) != nil {
		return nil
	}
	for _, it := range items {
		var r wireRicerca
		if jsonKind(it) == '{' && json.Unmarshal(it, &r) == nil {
			*w = append(*w, r)
		}
	}
	return nil
}

type wireEsito struct {
	Codice looseString `json:"codice"`
	Info   looseString `json:"info"`
}

func (e *wireEsito) UnmarshalJSON(b []byte) error {
	*e = wireEsito{}
	if jsonKind(b) != '{' {
		return nil // false, null, []: no outcome yet
	}
	type plain wireEsito
	_ = json.Unmarshal(b, (*plain)(e))
	return nil
}

type wireTimestampStati struct {
	InRicerca       unixTime `json:"in_ricerca"`
	InErogazione    unixTime `json:"in_erogazione"`
	DatiDisponibili unixTime `json:"dati_disponibili"`
	VisuraEvasa     unixTime `json:"visura_evasa"`
	Annullata       unixTime `json:"annullata"`
}

func (t *wireTimestampStati) UnmarshalJSON(b []byte) error {
	*t = wireTimestampStati{}
	if jsonKind(b) != '{' {
		return nil // [] is PHP's empty map
	}
	type plain wireTimestampStati
	_ = json.Unmarshal(b, (*plain)(t))
	return nil
}

type wireCallback struct {
	URL    looseString `json:"url"`
	Method looseString `json:"method"`
	Field  looseString `json:"field"`
	Data   looseObject `json:"data"`
}

// UnmarshalJSON decodes the wire form leniently (see wireRichiesta): null,
// false, [] and missing values become zero values, numbers may come as
// strings and strings as numbers. It fails when _id is not a usable id, when
// state is not 0 or 1, and when a price or indice_ricerca is malformed.
func (r *Richiesta) UnmarshalJSON(b []byte) error {
	var w wireRichiesta
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	id, err := decodeID(w.ID)
	if err != nil {
		return err
	}
	state, err := decodeState(w.State)
	if err != nil {
		return err
	}
	*r = Richiesta{
		ID: id, State: state, HashVisura: string(w.HashVisura), Nome: string(w.Nome),
		Callback: string(w.Callback), Ricerca: bool(w.Ricerca), IDRicerca: string(w.IDRicerca),
		PrezzoVisura: Price(w.PrezzoVisura), PrezzoRicerca: Price(w.PrezzoRicerca), IndiceRicerca: w.IndiceRicerca.p,
		StatoRichiesta: Stato(w.StatoRichiesta), EmailTarget: string(w.EmailTarget), Allegati: []string(w.Allegati),
		TimestampCreation: w.TimestampCreation.t, TimestampLastUpdate: w.TimestampLastUpdate.t,
		TimestampStati: TimestampStati{
			InRicerca: w.TimestampStati.InRicerca.t, InErogazione: w.TimestampStati.InErogazione.t,
			DatiDisponibili: w.TimestampStati.DatiDisponibili.t, VisuraEvasa: w.TimestampStati.VisuraEvasa.t,
			Annullata: w.TimestampStati.Annullata.t,
		},
		CallbackData: decodeCallbackData(w.CallbackData), Opzioni: decodeOpzioni(w.Opzioni),
		Owner: string(w.Owner), Sincrona: bool(w.Sincrona),
		Esito: Esito{Codice: string(w.Esito.Codice), Info: string(w.Esito.Info)}, MotivoAnnullamento: string(w.MotivoAnnullamento),
	}
	for _, wr := range w.Ricerche {
		r.Ricerche = append(r.Ricerche, wr.decode())
	}
	return nil
}

// decodeID requires _id to be a string that can address the richiesta.
func decodeID(raw json.RawMessage) (string, error) {
	var id string
	if jsonKind(raw) != '"' || json.Unmarshal(raw, &id) != nil || checkID("id", id) != nil {
		return "", fmt.Errorf("%w: _id is not a usable richiesta id", ErrUnexpectedResponse)
	}
	return id, nil
}

// decodeState requires state to be 0 or 1, as a number or a numeric string:
// reading a charged richiesta as a draft (or the reverse) is not harmless.
func decodeState(raw json.RawMessage) (int, error) {
	switch string(bytes.TrimSpace(raw)) {
	case "0", `"0"`:
		return StateDraft, nil
	case "1", `"1"`:
		return StateSubmitted, nil
	}
	return 0, fmt.Errorf("%w: state is not 0 or 1", ErrUnexpectedResponse)
}

func (w wireRicerca) decode() Ricerca {
	r := Ricerca{IDRicerca: string(w.IDRicerca), StatoRicerca: string(w.StatoRicerca), JSONMappato: map[string]any(w.JSONMappato),
		JSONRicerca: string(w.JSONRicerca), JSONRisultato: string(w.JSONRisultato)}
	if r.JSONRicerca != "" {
		var vals map[string]flexString
		if json.Unmarshal([]byte(r.JSONRicerca), &vals) == nil && vals != nil {
			r.Valori = make(Values, len(vals))
			for k, v := range vals {
				r.Valori[k] = string(v)
			}
		}
	}
	r.Risultati = decodeRisultati(r.JSONRisultato)
	return r
}

// decodeRisultati reads {"indice_0": {…}, …}; keys not of that form are
// skipped, since the choice is sent as the number.
func decodeRisultati(s string) map[int]Risultato {
	if s == "" || s == "null" {
		return nil
	}
	var raw map[string]json.RawMessage
	if json.Unmarshal([]byte(s), &raw) != nil {
		return nil
	}
	out := make(map[int]Risultato, len(raw))
	for k, v := range raw {
		n, err := strconv.Atoi(strings.TrimPrefix(k, "indice_"))
		if err != nil || n < 0 || !strings.HasPrefix(k, "indice_") {
			continue
		}
		var res Risultato
		if jsonKind(v) == '{' && json.Unmarshal(v, &res) == nil {
			out[n] = res
		}
	}
	return out
}

// UnmarshalJSON decodes a list entry through the same lenient rules.
func (s *RichiestaSummary) UnmarshalJSON(b []byte) error {
	var r Richiesta
	if err := r.UnmarshalJSON(b); err != nil {
		return err
	}
	*s = RichiestaSummary{ID: r.ID, State: r.State, HashVisura: r.HashVisura, Nome: r.Nome, Ricerca: r.Ricerca,
		IDRicerca: r.IDRicerca, PrezzoVisura: r.PrezzoVisura, PrezzoRicerca: r.PrezzoRicerca,
		IndiceRicerca: r.IndiceRicerca, StatoRichiesta: r.StatoRichiesta, EmailTarget: r.EmailTarget,
		TimestampCreation: r.TimestampCreation, TimestampLastUpdate: r.TimestampLastUpdate, Owner: r.Owner,
		Sincrona: r.Sincrona}
	return nil
}

// decodeCallbackData reads callback_data; anything but an object (false,
// null, absent, []) is no callback.
func decodeCallbackData(raw json.RawMessage) *Callback {
	if jsonKind(raw) != '{' {
		return nil
	}
	var w wireCallback
	if json.Unmarshal(raw, &w) != nil {
		return nil
	}
	return &Callback{URL: string(w.URL), Method: string(w.Method), Field: string(w.Field), Data: map[string]any(w.Data)}
}

// decodeOpzioni accepts the catalogue's list form and the request's object
// form {"opzione_0": true}; anything else is dropped.
func decodeOpzioni(raw json.RawMessage) []Opzione {
	var list []Opzione
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	var set map[string]Flag
	if json.Unmarshal(raw, &set) != nil {
		return nil
	}
	for nome, on := range set {
		if on {
			list = append(list, Opzione{Nome: nome})
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Nome < list[j].Nome })
	return list
}

// jsonKind returns the first byte of a JSON value ('"', '{', '[', 't', 'f',
// 'n', '-' or a digit), or 0 when there is none.
func jsonKind(b []byte) byte {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// isEmptyShape reports the values a PHP backend sends for "nothing": null,
// false, "", [] and {}.
func isEmptyShape(b []byte) bool {
	switch string(bytes.TrimSpace(b)) {
	case "", "null", "false", `""`:
		return true
	}
	switch jsonKind(b) {
	case '[':
		var a []json.RawMessage
		return json.Unmarshal(b, &a) == nil && len(a) == 0
	case '{':
		var m map[string]json.RawMessage
		return json.Unmarshal(b, &m) == nil && len(m) == 0
	}
	return false
}

// looseString is text sent as a string or a number (kept as its text);
// false, true, null, arrays and objects give "".
type looseString string

func (s *looseString) UnmarshalJSON(b []byte) error {
	*s = ""
	switch k := jsonKind(b); {
	case k == '"':
		var str string
		if json.Unmarshal(b, &str) == nil {
			*s = looseString(str)
		}
	case k == '-' || k >= '0' && k <= '9':
		*s = looseString(bytes.TrimSpace(b))
	}
	return nil
}

// looseStrings is a list of names: the strings of an array are kept, other
// entries and anything but an array are dropped.
type looseStrings []string

func (l *looseStrings) UnmarshalJSON(b []byte) error {
	*l = nil
	var items []json.RawMessage
	if jsonKind(b) != '[' || json.Unmarshal(b, &items) != nil {
		return nil
	}
	for _, it := range items {
		var s string
		if jsonKind(it) == '"' && json.Unmarshal(it, &s) == nil {
			*l = append(*l, s)
		}
	}
	return nil
}

// looseObject is a JSON object; anything else (PHP's [] included) is nil.
type looseObject map[string]any

func (o *looseObject) UnmarshalJSON(b []byte) error {
	*o = nil
	var m map[string]any
	if jsonKind(b) == '{' && json.Unmarshal(b, &m) == nil {
		*o = m
	}
	return nil
}

// jsonText is JSON that Visengine sends inside a string, or sometimes as
// the object or array itself: either way it is kept as JSON text. Other
// values give "".
type jsonText string

func (t *jsonText) UnmarshalJSON(b []byte) error {
	*t = ""
	switch jsonKind(b) {
	case '"':
		var s string
		if json.Unmarshal(b, &s) == nil {
			*t = jsonText(s)
		}
	case '{', '[':
		var buf bytes.Buffer
		if json.Compact(&buf, b) == nil {
			*t = jsonText(buf.String())
		}
	}
	return nil
}

// looseFlag is a Flag where anything unreadable is false.
type looseFlag bool

func (f *looseFlag) UnmarshalJSON(b []byte) error {
	var v Flag
	*f = looseFlag(v.UnmarshalJSON(b) == nil && bool(v))
	return nil
}

// loosePrice is a Price where PHP's empty shapes are zero; a malformed
// amount is still an error.
type loosePrice Price

func (p *loosePrice) UnmarshalJSON(b []byte) error {
	*p = 0
	if isEmptyShape(b) {
		return nil
	}
	var v Price
	if err := v.UnmarshalJSON(b); err != nil {
		return err
	}
	*p = loosePrice(v)
	return nil
}

// looseIndex is indice_ricerca: PHP's empty shapes mean not chosen (nil); a
// value that is not an integer is an error, since the choice is paid.
type looseIndex struct{ p *int }

func (x *looseIndex) UnmarshalJSON(b []byte) error {
	x.p = nil
	if isEmptyShape(b) {
		return nil
	}
	var n flexInt
	if err := n.UnmarshalJSON(b); err != nil {
		return err
	}
	x.p = n.ptr()
	return nil
}

// flexInt is an integer sent as a number or a numeric string.
type flexInt int

func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(bytes.TrimSpace(b)), `"`)
	if s == "null" || s == "" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v != math.Trunc(v) || math.Abs(v) > 1<<53 {
		return fmt.Errorf("%w: expected an integer", ErrUnexpectedResponse)
	}
	*n = flexInt(v)
	return nil
}

func (n *flexInt) ptr() *int {
	if n == nil {
		return nil
	}
	v := int(*n)
	return &v
}

// flexString is text sent as a string or a number.
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err == nil {
		*s = flexString(str)
		return nil
	}
	if t := bytes.TrimSpace(b); string(t) != "null" {
		*s = flexString(t)
	}
	return nil
}

// unixTime is Unix seconds; 0, null, absent or unreadable values give the
// zero time.
type unixTime struct{ t time.Time }

func (u *unixTime) UnmarshalJSON(b []byte) error {
	u.t = time.Time{}
	var n flexInt
	if n.UnmarshalJSON(b) == nil && n > 0 {
		u.t = time.Unix(int64(n), 0).UTC()
	}
	return nil
}

// RichiestaParams is the body of POST /richiesta.
type RichiestaParams struct {
	HashVisura string // the service; required
	JSONVisura Values // the applicant's values by key
	// State is StateDraft (0, the zero value: nothing is charged) or
	// StateSubmitted (validated and charged at once). It is always sent,
	// because the server's default is to submit.
	State int
	// Test asks for a dry run: the server validates and prices, stores and
	// charges nothing.
	Test         bool
	CallbackData *Callback // where Visengine should call back
	EmailTarget  string    // where to e-mail the document
	// Opzioni are the chosen options by nome ("opzione_0"), or by tipo
	// ("urgenza") when Visura is set.
	Opzioni []string
	// Visura, when set, resolves Opzioni given by tipo and refuses unknown
	// ones before anything is sent.
	Visura *Visura
}

// Format prints the service, the state and how much is set, for every verb:
// the values, the e-mail address and the callback (with its secret) are
// personal or secret and never printed; nor are the values' keys, since a
// value put where a key goes would show.
func (p RichiestaParams) Format(f fmt.State, _ rune) {
	visura := ""
	if p.Visura != nil {
		visura = p.Visura.HashVisura
	}
	fmt.Fprintf(f, "visengine.RichiestaParams{HashVisura:%s State:%d Test:%t JSONVisura:%d values CallbackData:%t EmailTarget:%t Opzioni:%d Visura:%s}",
		p.HashVisura, p.State, p.Test, len(p.JSONVisura), p.CallbackData != nil, p.EmailTarget != "", len(p.Opzioni), visura)
}

var optionNome = regexp.MustCompile(`^opzione_[0-9]+$`)

func (p *RichiestaParams) body() (map[string]any, error) {
	if err := checkHash(p.HashVisura); err != nil {
		return nil, err
	}
	if p.State != StateDraft && p.State != StateSubmitted {
		return nil, invalidArg("state", "must be StateDraft or StateSubmitted")
	}
	body := map[string]any{"hash_visura": p.HashVisura, "state": p.State, "test": p.Test}
	if p.JSONVisura != nil {
		body["json_visura"] = p.JSONVisura
	}
	if p.CallbackData != nil {
		if err := p.CallbackData.check(); err != nil {
			return nil, err
		}
		body["callback_data"] = p.CallbackData
	}
	if p.EmailTarget != "" {
		body["email_target"] = p.EmailTarget
	}
	if len(p.Opzioni) > 0 {
		opz, err := resolveOptions(p.Visura, p.Opzioni)
		if err != nil {
			return nil, err
		}
		body["opzioni"] = opz
	}
	return body, nil
}

func resolveOptions(v *Visura, names []string) (map[string]bool, error) {
	out := make(map[string]bool, len(names))
	for _, name := range names {
		if v != nil {
			o, ok := v.Option(name)
			if !ok {
				return nil, invalidArg("option", fmt.Sprintf("%q is not offered by this service", name))
			}
			name = o.Nome
		} else if !optionNome.MatchString(name) {
			return nil, invalidArg("option", fmt.Sprintf("%q is not an option nome (opzione_N); set Visura to choose by tipo", name))
		}
		out[name] = true
	}
	return out, nil
}

// CreateRichiesta sends POST /richiesta. With State StateSubmitted (and no
// Test) this is a paid call: it is never resent once it may have reached the
// server, and an *OutcomeUnknownError then means "use Reconcile". Submit is
// the safer path.
func (c *Client) CreateRichiesta(ctx context.Context, p *RichiestaParams) (*Richiesta, error) {
	if p == nil {
		return nil, invalidArg("params", "are nil")
	}
	body, err := p.body()
	if err != nil {
		return nil, err
	}
	return c.richiestaCall(ctx, http.MethodPost, "/richiesta", body)
}

func (c *Client) richiestaCall(ctx context.Context, method, path string, body any) (*Richiesta, error) {
	var r Richiesta
	if err := c.call(ctx, method, path, body, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// GetRichiesta returns one richiesta.
func (c *Client) GetRichiesta(ctx context.Context, id string) (*Richiesta, error) {
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	return c.richiestaCall(ctx, http.MethodGet, "/richiesta/"+id, nil)
}

// ListRichieste returns the account's richieste. Visengine answers an empty
// account with 404 (error 203); that is an empty list here.
func (c *Client) ListRichieste(ctx context.Context) ([]RichiestaSummary, error) {
	var out []RichiestaSummary
	err := c.call(ctx, http.MethodGet, "/richiesta", nil, &out)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound && apiErr.Code == 203 {
		return []RichiestaSummary{}, nil
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateParams is the body of PUT /richiesta/{id} for a draft.
type UpdateParams struct {
	// JSONVisura replaces all the values when non-nil.
	JSONVisura Values
	// Fields changes single values, sent as "json_visura.$N" keys.
	Fields Values
	// EmailTarget changes the address the document is e-mailed to.
	EmailTarget string
}

// Format prints how much is set, for every verb: values, keys and the
// e-mail address are never printed.
func (p UpdateParams) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "visengine.UpdateParams{JSONVisura:%d values Fields:%d EmailTarget:%t}",
		len(p.JSONVisura), len(p.Fields), p.EmailTarget != "")
}

// UpdateRichiesta edits a draft (state 0) and leaves it open: "state": 0 is
// sent explicitly so an edit can never close (and pay for) the richiesta.
func (c *Client) UpdateRichiesta(ctx context.Context, id string, p *UpdateParams) (*Richiesta, error) {
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	if p == nil {
		return nil, invalidArg("params", "are nil")
	}
	body := map[string]any{"state": StateDraft}
	if p.JSONVisura != nil {
		body["json_visura"] = p.JSONVisura
	}
	for k, v := range p.Fields {
		if keyIndex(k) < 0 {
			return nil, invalidArg("field key", "must look like $N")
		}
		body["json_visura."+k] = v
	}
	if p.EmailTarget != "" {
		body["email_target"] = p.EmailTarget
	}
	return c.richiestaCall(ctx, http.MethodPut, "/richiesta/"+id, body)
}

// CloseRichiesta closes a draft (PUT "state": 1): the server validates it,
// charges the wallet and starts the work. Paid; never resent once it may
// have reached the server. It checks nothing locally: when resuming a draft
// edited with UpdateRichiesta, run Visura.Validate on its values first, as
// Submit does.
func (c *Client) CloseRichiesta(ctx context.Context, id string) (*Richiesta, error) {
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	return c.richiestaCall(ctx, http.MethodPut, "/richiesta/"+id, map[string]int{"state": StateSubmitted})
}

// AddRicerca appends a search to a richiesta of a service with a search step
// (POST /richiesta/{id}).
func (c *Client) AddRicerca(ctx context.Context, id string, values Values) (*Richiesta, error) {
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	if len(values) == 0 {
		return nil, invalidArg("values", "are empty")
	}
	return c.richiestaCall(ctx, http.MethodPost, "/richiesta/"+id, map[string]any{"json_visura": values})
}

// ChooseRisultato picks result indice of search idRicerca (PUT
// /richiesta/{id}/ricerche); the document is then produced. Paid.
func (c *Client) ChooseRisultato(ctx context.Context, id, idRicerca string, indice int) (*Richiesta, error) {
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	if err := checkID("id_ricerca", idRicerca); err != nil {
		return nil, err
	}
	if indice < 0 {
		return nil, invalidArg("indice", "must be >= 0")
	}
	body := map[string]any{"id_ricerca": idRicerca, "indice": indice}
	return c.richiestaCall(ctx, http.MethodPut, "/richiesta/"+id+"/ricerche", body)
}

// checkID accepts what ids are made of (hex ObjectIds, "<id>_<n>" for
// searches), so nothing else can change the request's path.
func checkID(what, id string) error {
	if id == "" {
		return invalidArg(what, "is empty")
	}
	if len(id) > 64 {
		return invalidArg(what, "is longer than 64 characters")
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return invalidArg(what, "may hold only letters, digits, '_' and '-'")
		}
	}
	return nil
}

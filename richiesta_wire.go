package visengine

// The lenient decoding of richieste: Visengine is a PHP backend, and its
// answers carry false, [] and numbers where strings and objects are due.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

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
	*w = keepItems[wireRicerca](b, '{')
	return nil
}

// keepItems decodes the items of a JSON array that are of kind ('{', '"',
// …) and decode as T; anything else, the array included, is dropped.
func keepItems[T any](b []byte, kind byte) []T {
	var items []json.RawMessage
	if jsonKind(b) != '[' || json.Unmarshal(b, &items) != nil {
		return nil
	}
	var out []T
	for _, it := range items {
		var v T
		if jsonKind(it) == kind && json.Unmarshal(it, &v) == nil {
			out = append(out, v)
		}
	}
	return out
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
	if r == nil {
		return invalidArg("richiesta", "is nil")
	}
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
		ProviderRoutine: string(w.Callback), HasRicerca: bool(w.Ricerca), IDRicerca: string(w.IDRicerca),
		PrezzoVisura: Price(w.PrezzoVisura), PrezzoRicerca: Price(w.PrezzoRicerca), IndiceRicerca: w.IndiceRicerca.p,
		StatoRichiesta: Stato(w.StatoRichiesta), EmailTarget: string(w.EmailTarget), Allegati: []string(w.Allegati),
		TimestampCreation: w.TimestampCreation.t, TimestampLastUpdate: w.TimestampLastUpdate.t,
		TimestampStati: TimestampStati{
			InRicerca: w.TimestampStati.InRicerca.t, InErogazione: w.TimestampStati.InErogazione.t,
			DatiDisponibili: w.TimestampStati.DatiDisponibili.t, VisuraEvasa: w.TimestampStati.VisuraEvasa.t,
			Annullata: w.TimestampStati.Annullata.t,
		},
		CallbackData: decodeCallbackData(w.CallbackData), Owner: string(w.Owner), Sincrona: bool(w.Sincrona),
		Esito: Esito{Codice: string(w.Esito.Codice), Info: string(w.Esito.Info)}, MotivoAnnullamento: string(w.MotivoAnnullamento),
	}
	r.Opzioni, r.unpricedOpzioni = decodeOpzioni(w.Opzioni)
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
func decodeState(raw json.RawMessage) (State, error) {
	switch string(bytes.TrimSpace(raw)) {
	case "0", `"0"`:
		return StateDraft, nil
	case "1", `"1"`:
		return StateSubmitted, nil
	}
	return 0, fmt.Errorf("%w: state is not 0 or 1", ErrUnexpectedResponse)
}

func (w wireRicerca) decode() Ricerca {
	r := Ricerca{IDRicerca: string(w.IDRicerca), StatoRicerca: StatoRicerca(w.StatoRicerca), JSONMappato: map[string]any(w.JSONMappato),
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
	if s == nil {
		return invalidArg("richiesta summary", "is nil")
	}
	var r Richiesta
	if err := r.UnmarshalJSON(b); err != nil {
		return err
	}
	*s = RichiestaSummary{ID: r.ID, State: r.State, HashVisura: r.HashVisura, Nome: r.Nome, HasRicerca: r.HasRicerca,
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
// form {"opzione_0": true}, which names the options without their prices
// (unpriced); anything else is dropped.
func decodeOpzioni(raw json.RawMessage) (list []Opzione, unpriced bool) {
	if json.Unmarshal(raw, &list) == nil {
		return list, false
	}
	var set map[string]Flag
	if json.Unmarshal(raw, &set) != nil {
		return nil, false
	}
	for nome, on := range set {
		if on {
			list = append(list, Opzione{Nome: nome})
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Nome < list[j].Nome })
	return list, true
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
	*l = keepItems[string](b, '"')
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

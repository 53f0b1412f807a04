package visengine

// The lenient decoding of richieste: Visengine is a PHP backend, and its
// answers carry false, null, [], {} and numbers where strings and objects
// are due. Every field is therefore read leniently, the wrong shape giving
// the zero value. Only what would be dangerous to get wrong is strict: _id
// (a richiesta we cannot address), state (draft or charged) and, when they
// hold something other than an empty shape, the prices and indice_ricerca.
//
// Richieste are read straight from the answer's stream (see envelope.go),
// field by field, in one pass; the searches' values, mapped copy and
// results are kept as the JSON text sent and decoded only when asked
// (Ricerca.Valori, Mappato, Risultati). ref_decoder_test.go keeps the
// encoding/json decoder this replaced, which the differential tests hold it
// to.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

var (
	errBadID    = fmt.Errorf("%w: _id is not a usable richiesta id", ErrUnexpectedResponse)
	errBadState = fmt.Errorf("%w: state is not 0 or 1", ErrUnexpectedResponse)
	errNotInt   = fmt.Errorf("%w: expected an integer", ErrUnexpectedResponse)
)

// UnmarshalJSON decodes the wire form leniently: null, false, [] and
// missing values become zero values, numbers may come as strings and
// strings as numbers. It fails when _id is not a usable id, when state is
// not 0 or 1, and when a price or indice_ricerca is malformed.
func (r *Richiesta) UnmarshalJSON(b []byte) error {
	if r == nil {
		return invalidArg("richiesta", "is nil")
	}
	var d richiestaReader
	if err := decodeBytes(b, func(w *wireReader) error { return d.read(w, false) }); err != nil {
		return err
	}
	*r = d.r
	return nil
}

// UnmarshalJSON decodes a list entry through the same lenient rules.
func (s *RichiestaSummary) UnmarshalJSON(b []byte) error {
	if s == nil {
		return invalidArg("richiesta summary", "is nil")
	}
	var d richiestaReader
	if err := decodeBytes(b, func(w *wireReader) error { return d.read(w, true) }); err != nil {
		return err
	}
	*s = d.r.summary()
	return nil
}

// decodeBytes runs read on b, which must hold one JSON value, and returns
// its first problem.
func decodeBytes(b []byte, read func(*wireReader) error) error {
	w := newWireReader(bytes.NewReader(b), 0, nil)
	defer w.Release()
	err := read(w)
	if err == nil {
		err = w.Finish()
	}
	if err == nil {
		err = w.err
	}
	return err
}

func (r *Richiesta) decodeWire(w *wireReader) error {
	var d richiestaReader
	err := d.read(w, false)
	*r = d.r
	return err
}

func (r *Richiesta) summary() RichiestaSummary {
	return RichiestaSummary{ID: r.ID, State: r.State, HashVisura: r.HashVisura, Nome: r.Nome, HasRicerca: r.HasRicerca,
		IDRicerca: r.IDRicerca, PrezzoVisura: r.PrezzoVisura, PrezzoRicerca: r.PrezzoRicerca,
		IndiceRicerca: r.IndiceRicerca, StatoRichiesta: r.StatoRichiesta, EmailTarget: r.EmailTarget,
		TimestampCreation: r.TimestampCreation, TimestampLastUpdate: r.TimestampLastUpdate, Owner: r.Owner,
		Sincrona: r.Sincrona}
}

// richiestaReader decodes one richiesta.
type richiestaReader struct {
	r       Richiesta
	w       *wireReader
	summary bool   // only the keys of a list entry, short strings shared
	looseID string // _id as text, even when it is not a usable id
	idOK    bool   // _id is a usable id
	stateOK bool   // state is 0 or 1
}

// read decodes a richiesta (a list entry when summary is set). Its first
// problem goes to w.fail; an error is the stream's.
func (d *richiestaReader) read(w *wireReader, summary bool) error {
	d.w, d.summary = w, summary
	c, err := w.Kind()
	if err != nil {
		return err
	}
	switch c {
	case '{':
		err = w.Object(d.member)
	case 'n':
		err = w.Literal() // like an object without keys
	default:
		w.fail(typeError(c, reflect.TypeFor[Richiesta](), ""))
		return w.Skip()
	}
	if !d.idOK {
		w.fail(errBadID)
	}
	if !d.stateOK {
		w.fail(errBadState)
	}
	return err
}

func (d *richiestaReader) member(key []byte) error {
	var buf foldBuf
	w, r := d.w, &d.r
	var err error
	switch name := string(buf.fold(key)); name {
	case "_id":
		return d.readID()
	case "state":
		raw, err := w.rawValue()
		r.State, d.stateOK = decodeState(raw)
		return err
	case "hash_visura":
		r.HashVisura, err = w.looseString(d.summary)
	case "nome":
		r.Nome, err = w.looseString(d.summary)
	case "id_ricerca":
		r.IDRicerca, err = w.looseString(false)
	case "stato_richiesta":
		var s string
		s, err = w.looseString(d.summary)
		r.StatoRichiesta = Stato(s)
	case "email_target":
		r.EmailTarget, err = w.looseString(d.summary)
	case "owner":
		r.Owner, err = w.looseString(d.summary)
	case "ricerca":
		r.HasRicerca, err = w.looseFlag()
	case "sincrona":
		r.Sincrona, err = w.looseFlag()
	case "prezzo_visura":
		r.PrezzoVisura, err = w.loosePrice()
	case "prezzo_ricerca":
		r.PrezzoRicerca, err = w.loosePrice()
	case "indice_ricerca":
		r.IndiceRicerca, err = w.looseIndex()
	case "timestamp_creation":
		r.TimestampCreation, err = w.unixTime()
	case "timestamp_last_update":
		r.TimestampLastUpdate, err = w.unixTime()
	default:
		if d.summary {
			return w.Skip()
		}
		return d.detail(name)
	}
	return err
}

// detail reads the keys a list entry does not have.
func (d *richiestaReader) detail(name string) error {
	w, r := d.w, &d.r
	var err error
	switch name {
	case "callback":
		r.ProviderRoutine, err = w.looseString(false)
	case "motivo_annullamento":
		r.MotivoAnnullamento, err = w.looseString(false)
	case "allegati":
		r.Allegati, err = w.looseStrings()
	case "timestamp_stati":
		r.TimestampStati, err = w.timestampStati()
	case "callback_data":
		r.CallbackData, err = w.callbackData()
	case "opzioni":
		var raw []byte
		raw, err = w.rawValue()
		r.Opzioni, r.unpricedOpzioni = decodeOpzioni(raw)
	case "ricerche":
		r.Ricerche, err = w.ricerche()
	case "esito":
		r.Esito, err = w.esito()
	default:
		err = w.Skip()
	}
	return err
}

// readID requires _id to be a string that can address the richiesta, and
// keeps it as text anyway for a list entry that cannot be read.
func (d *richiestaReader) readID() error {
	c, err := d.w.Kind()
	if err != nil {
		return err
	}
	d.looseID, err = d.w.looseString(false)
	d.idOK = c == '"' && checkID("id", d.looseID) == nil
	if d.idOK {
		d.r.ID = d.looseID
	}
	return err
}

// decodeState requires state to be 0 or 1, as a number or a numeric string:
// reading a charged richiesta as a draft (or the reverse) is not harmless.
func decodeState(raw []byte) (State, bool) {
	switch string(raw) {
	case "0", `"0"`:
		return StateDraft, true
	case "1", `"1"`:
		return StateSubmitted, true
	}
	return 0, false
}

// looseString is text sent as a string or a number (kept as its text);
// false, true, null, arrays and objects give "". With share, a short string
// seen before in this answer is shared rather than copied again.
func (w *wireReader) looseString(share bool) (string, error) {
	c, err := w.Kind()
	switch {
	case err != nil:
		return "", err
	case c == '"' && share:
		w.scratch, err = w.AppendString(w.scratch[:0])
		return w.shared(w.scratch), err
	case c == '"':
		return w.String()
	case c == '-' || '0' <= c && c <= '9':
		w.scratch, err = w.Number(w.scratch[:0])
		if share {
			return w.shared(w.scratch), err
		}
		return string(w.scratch), err
	}
	return "", w.Skip()
}

// shared returns b as a string, the same string each time for short ones.
func (w *wireReader) shared(b []byte) string {
	if s, ok := w.names[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(b) <= 64 && len(w.names) < 1024 {
		if w.names == nil {
			w.names = make(map[string]string)
		}
		w.names[s] = s
	}
	return s
}

// rawValue returns the next value as sent, in scratch space valid until
// the next read.
func (w *wireReader) rawValue() ([]byte, error) {
	var err error
	w.scratch, err = w.AppendRaw(w.scratch[:0])
	return w.scratch, err
}

// looseFlag is a Flag where anything unreadable is false.
func (w *wireReader) looseFlag() (bool, error) {
	raw, err := w.rawValue()
	switch string(bytes.Trim(raw, `"`)) {
	case "true", "1":
		return true, err
	}
	return false, err
}

// loosePrice is a Price where PHP's empty shapes are zero; a malformed
// amount is still a problem.
func (w *wireReader) loosePrice() (Price, error) {
	raw, err := w.rawValue()
	if err != nil || isEmptyShape(raw) {
		return Price{}, err
	}
	p, perr := parsePrice(bytes.Trim(raw, `"`))
	if perr != nil {
		w.fail(perr)
	}
	return p, nil
}

// looseIndex is indice_ricerca: PHP's empty shapes mean not chosen (nil);
// a value that is not an integer is a problem, since the choice is paid.
func (w *wireReader) looseIndex() (*int, error) {
	raw, err := w.rawValue()
	if err != nil || isEmptyShape(raw) {
		return nil, err
	}
	n, perr := flexInt(raw)
	if perr != nil {
		w.fail(perr)
		return nil, nil
	}
	return &n, nil
}

// unixTime is Unix seconds; 0, null, absent or unreadable values give the
// zero time.
func (w *wireReader) unixTime() (time.Time, error) {
	raw, err := w.rawValue()
	if n, perr := flexInt(raw); perr == nil && n > 0 && err == nil {
		return time.Unix(int64(n), 0).UTC(), nil
	}
	return time.Time{}, err
}

// isEmptyShape reports the values a PHP backend sends for "nothing": null,
// false, "", [] and {} (raw is one JSON value, as sent).
func isEmptyShape(raw []byte) bool {
	switch string(raw) {
	case "null", "false", `""`:
		return true
	}
	if len(raw) < 2 || raw[0] != '[' && raw[0] != '{' {
		return false
	}
	return len(bytes.TrimSpace(raw[1:len(raw)-1])) == 0
}

// flexInt reads an integer sent as a number or a numeric string (raw as
// sent); null and "null" are 0.
func flexInt(raw []byte) (int, error) {
	s := bytes.Trim(bytes.TrimSpace(raw), `"`)
	if len(s) == 0 || string(s) == "null" {
		return 0, nil
	}
	if len(s) <= 15 && allDigits(s) { // exact, and what ParseFloat would say
		n := 0
		for _, c := range s {
			n = n*10 + int(c-'0')
		}
		return n, nil
	}
	v, err := strconv.ParseFloat(string(s), 64)
	if err != nil || v != math.Trunc(v) || math.Abs(v) > 1<<53 {
		return 0, errNotInt
	}
	return int(v), nil
}

// looseStrings is a list of names: the strings of an array are kept, other
// entries and anything but an array are dropped.
func (w *wireReader) looseStrings() ([]string, error) {
	c, err := w.Kind()
	if err != nil || c != '[' {
		return nil, w.skipUnless(err)
	}
	var out []string
	err = w.Array(func() error {
		if c, err := w.Kind(); err != nil || c != '"' {
			return w.skipUnless(err)
		}
		s, err := w.String()
		out = append(out, s)
		return err
	})
	return out, err
}

// skipUnless skips the next value unless err is set.
func (w *wireReader) skipUnless(err error) error {
	if err != nil {
		return err
	}
	return w.Skip()
}

// object reads an object's members with member, or skips anything else and
// reports false.
func (w *wireReader) object(member func(name []byte) error) (bool, error) {
	c, err := w.Kind()
	if err != nil || c != '{' {
		return false, w.skipUnless(err)
	}
	return true, w.Object(func(key []byte) error {
		var buf foldBuf
		return member(buf.fold(key))
	})
}

// esito is the provider's outcome; false, null or [] before there is one.
func (w *wireReader) esito() (Esito, error) {
	var e Esito
	_, err := w.object(func(name []byte) (err error) {
		switch string(name) {
		case "codice":
			e.Codice, err = w.looseString(false)
		case "info":
			e.Info, err = w.looseString(false)
		default:
			err = w.Skip()
		}
		return err
	})
	return e, err
}

// timestampStati has a key per state reached; [] is PHP's empty map.
func (w *wireReader) timestampStati() (TimestampStati, error) {
	var t TimestampStati
	_, err := w.object(func(name []byte) (err error) {
		var at *time.Time
		switch string(name) {
		case "in_ricerca":
			at = &t.InRicerca
		case "in_erogazione":
			at = &t.InErogazione
		case "dati_disponibili":
			at = &t.DatiDisponibili
		case "visura_evasa":
			at = &t.VisuraEvasa
		case "annullata":
			at = &t.Annullata
		default:
			return w.Skip()
		}
		*at, err = w.unixTime()
		return err
	})
	return t, err
}

// callbackData reads callback_data; anything but an object (false, null,
// absent, []) is no callback.
func (w *wireReader) callbackData() (*Callback, error) {
	var cb Callback
	ok, err := w.object(func(name []byte) (err error) {
		switch string(name) {
		case "url":
			cb.URL, err = w.looseString(false)
		case "method":
			cb.Method, err = w.looseString(false)
		case "field":
			cb.Field, err = w.looseString(false)
		case "data":
			cb.Data, err = w.looseObject()
		default:
			err = w.Skip()
		}
		return err
	})
	if !ok {
		return nil, err
	}
	return &cb, err
}

// looseObject is a JSON object; anything else (PHP's [] included) is nil.
func (w *wireReader) looseObject() (map[string]any, error) {
	c, err := w.Kind()
	if err != nil || c != '{' {
		return nil, w.skipUnless(err)
	}
	raw, err := w.rawValue()
	var m map[string]any
	if err == nil && json.Unmarshal(raw, &m) != nil {
		m = nil
	}
	return m, err
}

// ricerche is the ricerche list: anything but an array is no searches,
// and entries that are not objects are skipped.
func (w *wireReader) ricerche() ([]Ricerca, error) {
	c, err := w.Kind()
	if err != nil || c != '[' {
		return nil, w.skipUnless(err)
	}
	var out blocks[Ricerca]
	err = w.Array(func() error {
		var r Ricerca
		ok, err := w.object(func(name []byte) error { return w.ricercaMember(&r, name) })
		if ok {
			out.add(r)
		}
		return err
	})
	return out.slice(), err
}

// blocks gathers a list in blocks, copied once into a slice of the right
// size: a slice grown by append would leave up to twice the list as
// garbage, which for long lists is most of the peak memory.
type blocks[T any] struct {
	full [][]T
	last []T
}

func (b *blocks[T]) add(v T) {
	if len(b.last) == cap(b.last) {
		if b.last != nil {
			b.full = append(b.full, b.last)
		}
		b.last = make([]T, 0, min(max(2*cap(b.last), 8), 4096))
	}
	b.last = append(b.last, v)
}

// slice returns the list; nil when nothing was added.
func (b *blocks[T]) slice() []T {
	if len(b.full) == 0 {
		return b.last
	}
	return slices.Concat(append(b.full, b.last)...)
}

func (w *wireReader) ricercaMember(r *Ricerca, name []byte) error {
	var err error
	switch string(name) {
	case "id_ricerca":
		r.IDRicerca, err = w.looseString(false)
	case "stato_ricerca":
		var s string
		s, err = w.looseString(true)
		r.StatoRicerca = StatoRicerca(s)
	case "json_ricerca":
		r.JSONRicerca, err = w.jsonText()
	case "json_risultato":
		r.JSONRisultato, err = w.jsonText()
	case "json_mappato":
		r.JSONMappato = nil
		c, err := w.Kind()
		if err != nil || c != '{' {
			return w.skipUnless(err)
		}
		r.JSONMappato, err = w.Raw()
		return err
	default:
		err = w.Skip()
	}
	return err
}

// jsonText is JSON that Visengine sends inside a string, or sometimes as
// the object or array itself: either way it is kept as JSON text (compact,
// in the second case). Other values give "".
func (w *wireReader) jsonText() (string, error) {
	c, err := w.Kind()
	switch {
	case err != nil:
		return "", err
	case c == '"':
		return w.String()
	case c == '{' || c == '[':
		return w.Compact()
	}
	return "", w.Skip()
}

// richiesteList is GET /richiesta's data, each entry decoded on its own, so
// one that cannot be read does not hide the others.
type richiesteList struct {
	ok  []RichiestaSummary // the entries read, in order
	bad []listEntry        // the others, with what could be read of them
	n   int                // entries in all
}

func (l *richiesteList) decodeWire(w *wireReader) error {
	*l = richiesteList{}
	c, err := w.Kind()
	if err != nil {
		return err
	}
	if c != '[' {
		w.fail(typeError(c, reflect.TypeFor[[]RichiestaSummary](), ""))
		return w.Skip()
	}
	var ok blocks[RichiestaSummary]
	err = w.Array(func() error {
		outer := w.err
		w.err = nil
		var d richiestaReader
		err := d.read(w, true)
		if w.err != nil {
			l.bad = append(l.bad, listEntry{pos: l.n, id: d.looseID, hash: d.r.HashVisura, created: d.r.TimestampCreation, err: w.err})
		} else {
			ok.add(d.r.summary())
		}
		l.n, w.err = l.n+1, outer
		return err
	})
	if l.ok = ok.slice(); l.ok == nil {
		l.ok = []RichiestaSummary{}
	}
	return err
}

// entries lists every entry, readable or not, in order, with what
// Reconcile needs to know of it.
func (l *richiesteList) entries() []listEntry {
	out, bad := make([]listEntry, 0, l.n), l.bad
	for _, s := range l.ok {
		for len(bad) > 0 && bad[0].pos == len(out) {
			out, bad = append(out, bad[0]), bad[1:]
		}
		out = append(out, listEntry{pos: len(out), id: s.ID, hash: s.HashVisura, created: s.TimestampCreation})
	}
	return append(out, bad...)
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

// decodeValori reads json_ricerca's values: an object of strings or
// numbers (kept as their text); nil when it is not one.
func decodeValori(s string) Values {
	if s == "" {
		return nil
	}
	var vals map[string]flexString
	if json.Unmarshal([]byte(s), &vals) != nil || vals == nil {
		return nil
	}
	out := make(Values, len(vals))
	for k, v := range vals {
		out[k] = string(v)
	}
	return out
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
		if t := bytes.TrimSpace(v); len(t) > 0 && t[0] == '{' && json.Unmarshal(v, &res) == nil {
			out[n] = res
		}
	}
	return out
}

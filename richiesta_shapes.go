package visengine

// The shapes of a richiesta's values, read by one rule (see ShapeError):
// PHP's empty shapes (null, false, "", [] and {}) are "nothing", the other
// shapes whose meaning is clear are read (numbers as strings, dates as
// text, keyed objects as lists, JSON inside a string), and anything else is
// refused with a *ShapeError naming the key, never read as a zero value.

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"time"
)

// text is a string field: a string, or a number kept as its text; PHP's
// empty shapes give ""; true, a list or an object with keys is refused.
// With share, a short string seen before in this answer is shared.
func (w *wireReader) text(key string, share bool) (string, error) {
	c, err := w.Kind()
	switch {
	case err != nil:
		return "", err
	case c == '"' || c == '-' || '0' <= c && c <= '9':
		return w.looseString(share)
	}
	return "", w.nothing(key, "a text")
}

// nothing reads a value that must be one of PHP's empty shapes, and
// refuses any other as not want.
func (w *wireReader) nothing(key, want string) error {
	raw, err := w.rawValue()
	if err == nil && !isEmptyShape(raw) {
		w.fail(shapeError(key, want))
	}
	return err
}

// flag is a boolean sent as true/false, 1/0, their string forms, or one of
// PHP's empty shapes (false); "yes" or 2 is refused, as a Visura's Flag
// refuses it.
func (w *wireReader) flag(key string) (bool, error) {
	raw, err := w.rawValue()
	if err != nil {
		return false, err
	}
	switch string(bytes.Trim(raw, `"`)) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	if !isEmptyShape(raw) {
		w.fail(shapeError(key, "a boolean"))
	}
	return false, nil
}

// loosePrice is a Price as a Visura reads it: null is zero, and anything
// that is not a decimal amount (false, "", [] included) is refused with the
// price parser's error (ErrBadPrice), naming key.
func (w *wireReader) loosePrice(key string) (Price, error) {
	raw, err := w.rawValue()
	if err != nil || string(raw) == "null" {
		return Price{}, err
	}
	p, perr := parsePrice(bytes.Trim(raw, `"`))
	if perr != nil {
		w.fail(&ShapeError{Key: key, Want: "a price", Err: perr})
	}
	return p, nil
}

// when is a moment: Unix seconds as a number or a numeric string, or a date
// as text in one of the layouts Visengine's PHP backend prints; 0 and PHP's
// empty shapes are no time (the zero time). A negative or fractional
// number, or text that is no such date, is refused.
func (w *wireReader) when(key string) (time.Time, error) {
	raw, err := w.rawValue()
	if err != nil {
		return time.Time{}, err
	}
	t, ok := parseWireTime(raw)
	if !ok {
		w.fail(shapeError(key, "a Unix time or a date"))
	}
	return t, nil
}

// parseWireTime reads raw (one JSON value, as sent) as when does.
func parseWireTime(raw []byte) (time.Time, bool) {
	if isEmptyShape(raw) {
		return time.Time{}, true
	}
	if n, err := flexInt(raw); err == nil && n >= 0 {
		if n == 0 {
			return time.Time{}, true
		}
		return time.Unix(int64(n), 0).UTC(), true
	}
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return time.Time{}, false
	}
	return parseDate(s)
}

// dateLayouts are the dates a PHP backend prints: ISO 8601 with an offset
// (DATE_ATOM), and in Italian local time MySQL's "Y-m-d H:i:s", ISO without
// an offset, and the Italian "d-m-Y" and "d/m/Y", with or without the time.
// Fractional seconds after the seconds are accepted by time.Parse.
var dateLayouts = []string{
	"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02",
	"02-01-2006 15:04:05", "02-01-2006 15:04", "02-01-2006",
	"02/01/2006 15:04:05", "02/01/2006 15:04", "02/01/2006",
}

// parseDate reads s in a layout of dateLayouts, or as RFC 3339; a date
// without an offset is Italian local time.
func parseDate(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return italianToUTC(t), true
		}
	}
	return time.Time{}, false
}

// italianToUTC reads the wall clock of t (parsed as UTC) as Italian local
// time: CET (UTC+1), or CEST (UTC+2) from the last Sunday of March to the
// last Sunday of October, switching at 01:00 UTC, as in the EU since 1996.
// The rule is written out so that the result never depends on the
// machine's time zone database.
func italianToUTC(wall time.Time) time.Time {
	t := wall.Add(-time.Hour)
	y := t.Year()
	start, end := lastSunday(y, time.March), lastSunday(y, time.October)
	if u := wall.Add(-2 * time.Hour); !u.Before(start) && u.Before(end) {
		return u
	}
	return t
}

// lastSunday is 01:00 UTC on the last Sunday of month m of year y.
func lastSunday(y int, m time.Month) time.Time {
	d := time.Date(y, m+1, 1, 1, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	return d.AddDate(0, 0, -int(d.Weekday()))
}

// list reads a list sent as an array or as PHP's keyed object {"0": …,
// "1": …} (an array whose keys are not 0…n-1), calling item with each
// entry's position: its index in an array, its key in an object. Other
// shapes are PHP's empty ones (no entries) or refused as want.
func (w *wireReader) list(key, want string, item func(pos int) error) error {
	c, err := w.Kind()
	switch {
	case err != nil:
		return err
	case c == '[':
		pos := 0
		return w.Array(func() error { pos++; return item(pos - 1) })
	case c == '{':
		return w.Object(func(k []byte) error {
			pos, err := strconv.Atoi(string(k))
			if err != nil || pos < 0 || strconv.Itoa(pos) != string(k) {
				w.fail(shapeError(key, want+" (an object whose keys are not positions)"))
				return w.Skip()
			}
			return item(pos)
		})
	}
	return w.nothing(key, want)
}

// fileNames is allegati: file names as an array or a keyed object (read in
// key order); null entries are skipped, other entries that are not text are
// refused.
func (w *wireReader) fileNames(key string) ([]string, error) {
	var out []string
	var at positions
	err := w.list(key, "a list of file names", func(pos int) error {
		if c, err := w.Kind(); err != nil || c == 'n' {
			return w.skipUnless(err)
		}
		s, err := w.text(key, false)
		out = append(out, s)
		at.add(pos)
		return err
	})
	return inKeyOrder(out, &at), err
}

// positions are the positions a list's entries were sent with, kept only
// once one is not the entry's index (a keyed object out of order, or with
// a key repeated): an array costs nothing.
type positions struct {
	at  []int
	n   int
	odd bool
}

func (p *positions) add(pos int) {
	if !p.odd && pos == p.n {
		p.n++
		return
	}
	if !p.odd {
		p.odd, p.at = true, make([]int, p.n, p.n+4)
		for i := range p.at {
			p.at[i] = i
		}
	}
	p.at = append(p.at, pos)
	p.n++
}

// inKeyOrder puts a list's entries in the order of the positions they were
// sent with; of a position sent twice (a repeated key), the last is kept,
// as for any repeated key.
func inKeyOrder[T any](items []T, p *positions) []T {
	if !p.odd {
		return items
	}
	pos := p.at
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return pos[idx[i]] < pos[idx[j]] })
	out := make([]T, 0, len(items))
	for n, i := range idx {
		if n+1 < len(idx) && pos[idx[n+1]] == pos[i] {
			continue // a later entry has the same position
		}
		out = append(out, items[i])
	}
	return out
}

// objectOf reads an object's members with member; PHP's empty shapes are
// no object (false), anything else is refused as want.
func (w *wireReader) objectOf(key, want string, member func(name []byte) error) (bool, error) {
	c, err := w.Kind()
	if err != nil || c != '{' {
		return false, w.skipOrNothing(err, key, want)
	}
	return w.object(member)
}

// skipOrNothing returns err, or reads a value that must be empty.
func (w *wireReader) skipOrNothing(err error, key, want string) error {
	if err != nil {
		return err
	}
	return w.nothing(key, want)
}

// esito is the provider's outcome; false, null or [] before there is one.
func (w *wireReader) esito() (Esito, error) {
	var e Esito
	_, err := w.objectOf("esito", "an object", func(name []byte) (err error) {
		switch string(name) {
		case "codice":
			e.Codice, err = w.text("esito.codice", false)
		case "info":
			e.Info, err = w.text("esito.info", false)
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
	_, err := w.objectOf("timestamp_stati", "an object", func(name []byte) (err error) {
		var at *time.Time
		var key string // a constant: a key built here would cost an allocation per member
		switch string(name) {
		case "in_ricerca":
			at, key = &t.InRicerca, "timestamp_stati.in_ricerca"
		case "in_erogazione":
			at, key = &t.InErogazione, "timestamp_stati.in_erogazione"
		case "dati_disponibili":
			at, key = &t.DatiDisponibili, "timestamp_stati.dati_disponibili"
		case "visura_evasa":
			at, key = &t.VisuraEvasa, "timestamp_stati.visura_evasa"
		case "annullata":
			at, key = &t.Annullata, "timestamp_stati.annullata"
		default:
			return w.Skip()
		}
		*at, err = w.when(key)
		return err
	})
	return t, err
}

// callbackData reads callback_data: an object, or JSON text holding one
// (read the same way); PHP's empty shapes are no callback.
func (w *wireReader) callbackData() (*Callback, error) {
	const key, want = "callback_data", "an object"
	c, err := w.Kind()
	switch {
	case err != nil:
		return nil, err
	case c == '{':
		return w.callbackObject()
	case c != '"':
		return nil, w.nothing(key, want)
	}
	s, err := w.String()
	t := bytes.TrimSpace([]byte(s))
	if err != nil || len(t) == 0 || t[0] != '{' && isEmptyShape(t) {
		return nil, err
	}
	var cb *Callback
	inner := decodeBytes(t, func(in *wireReader) error {
		if c, err := in.Kind(); err != nil || c != '{' {
			return in.skipOrNothing(err, key, want)
		}
		var err error
		cb, err = in.callbackObject()
		return err
	})
	switch _, shaped := inner.(*ShapeError); {
	case shaped:
		w.fail(inner)
	case inner != nil:
		w.fail(shapeError(key, want+" or JSON text holding one"))
	}
	return cb, nil
}

// callbackObject reads the members of callback_data.
func (w *wireReader) callbackObject() (*Callback, error) {
	var cb Callback
	_, err := w.object(func(name []byte) (err error) {
		switch string(name) {
		case "url":
			cb.URL, err = w.text("callback_data.url", false)
		case "method":
			cb.Method, err = w.text("callback_data.method", false)
		case "field":
			cb.Field, err = w.text("callback_data.field", false)
		case "data":
			cb.Data, err = w.jsonObject("callback_data.data")
		default:
			err = w.Skip()
		}
		return err
	})
	return &cb, err
}

// jsonObject is a JSON object, or JSON text holding one; PHP's empty shapes
// ([] included, which is also an empty PHP object) are nil.
func (w *wireReader) jsonObject(key string) (map[string]any, error) {
	c, err := w.Kind()
	if err != nil || c != '{' && c != '"' {
		return nil, w.skipOrNothing(err, key, "an object")
	}
	var m map[string]any
	if c == '{' {
		raw, err := w.rawValue()
		if err == nil && json.Unmarshal(raw, &m) != nil {
			w.fail(shapeError(key, "an object"))
		}
		return m, err
	}
	s, err := w.String()
	t := bytes.TrimSpace([]byte(s))
	if err != nil || len(t) == 0 || isEmptyShape(t) {
		return nil, err
	}
	if t[0] != '{' || json.Unmarshal(t, &m) != nil {
		w.fail(shapeError(key, "an object or JSON text holding one"))
	}
	return m, nil
}

// ricerche is the ricerche list, an array or a keyed object; entries that
// are PHP's empty shapes are skipped, other entries that are not objects
// refused.
func (w *wireReader) ricerche() ([]Ricerca, error) {
	var out blocks[Ricerca]
	var at positions
	err := w.list("ricerche", "a list of searches", func(pos int) error {
		var r Ricerca
		ok, err := w.objectOf("ricerche", "a list of searches", func(name []byte) error { return w.ricercaMember(&r, name) })
		if ok {
			out.add(r)
			at.add(pos)
		}
		return err
	})
	return inKeyOrder(out.slice(), &at), err
}

func (w *wireReader) ricercaMember(r *Ricerca, name []byte) error {
	var err error
	switch string(name) {
	case "id_ricerca":
		r.IDRicerca, err = w.text("ricerche.id_ricerca", false)
	case "stato_ricerca":
		var s string
		s, err = w.text("ricerche.stato_ricerca", true)
		r.StatoRicerca = StatoRicerca(s)
	case "json_ricerca":
		r.JSONRicerca, err = w.jsonText("ricerche.json_ricerca")
	case "json_risultato":
		r.JSONRisultato, err = w.jsonText("ricerche.json_risultato")
	case "json_mappato":
		r.JSONMappato = nil
		c, err := w.Kind()
		if err != nil || c != '{' {
			return w.skipOrNothing(err, "ricerche.json_mappato", "an object")
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
// in the second case). null and false give ""; other values are refused.
func (w *wireReader) jsonText(key string) (string, error) {
	c, err := w.Kind()
	switch {
	case err != nil:
		return "", err
	case c == '"':
		return w.String()
	case c == '{' || c == '[':
		return w.Compact()
	}
	return "", w.nothing(key, "JSON text")
}

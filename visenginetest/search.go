package visenginetest

import (
	"encoding/json"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/internal/itcheck"
)

// The search step of the "con Ricerca" services looks a company up by name
// ($0) or by partita IVA / codice fiscale ($1). The fake makes up plausible
// candidates from the input, with the keys of the spec's example; a code
// that fails its check digit finds nothing, as in the spec's second search.

// esitoNotFound is the spec example's answer to an invalid code.
var esitoNotFound = esito{Codice: "101", Info: "Errore parametro input: KO - Attenzione Codice Fiscale non valido! " +
	"Nessun soggetto trovato su ANITA. Inibito acquisto su IC."}

type coded struct {
	Cod    string `json:"!cod"`
	Gruppo string `json:"!gruppo,omitempty"`
	Text   string `json:"!"`
}

type stato struct {
	Cod      string `json:"!cod"`
	Semaforo string `json:"!semaforo"`
	Text     string `json:"!"`
}

type provincia struct {
	Regione string `json:"!regione"`
	Sigla   string `json:"!"`
}

type indirizzo struct {
	Provincia provincia `json:"Provincia"`
	Comune    string    `json:"Comune"`
	Toponimo  string    `json:"Toponimo"`
	Via       string    `json:"Via"`
	NCivico   string    `json:"NCivico"`
	Cap       string    `json:"Cap"`
}

// candidate is one "indice_N" of a search's json_risultato.
type candidate struct {
	Cciaa          string    `json:"Cciaa"`
	NRea           string    `json:"NRea"`
	Denominazione  string    `json:"Denominazione"`
	CodFisc        string    `json:"CodFisc"`
	PIva           string    `json:"PIva"`
	NatGiu         coded     `json:"NatGiu"`
	StatoAttivitaR stato     `json:"StatoAttivitaR"`
	Ateco07        coded     `json:"Ateco07"`
	Indirizzo      indirizzo `json:"Indirizzo"`
	Completa       string    `json:"!completa"`
	IDBicAzienda   string    `json:"!idBicAzienda"`
}

// appendSearch runs a search with values and appends it to rq's ricerche.
func (rq *richiesta) appendSearch(values map[string]string) {
	rc := &ricerca{id: rq.id + "_" + strconv.Itoa(len(rq.ricerche)), input: values, stato: ricercaEvasa}
	rq.esito = esitoOK
	found := candidatesFor(values["$0"], values["$1"])
	if found == nil {
		rc.stato, rq.esito = ricercaErrore, esitoNotFound
	} else {
		m := make(map[string]candidate, len(found))
		for i, c := range found {
			m["indice_"+strconv.Itoa(i)] = c
		}
		b, _ := marshal(m)
		text := string(b)
		rc.risultato, rc.count = &text, len(found)
	}
	rq.ricerche = append(rq.ricerche, rc)
}

// candidatesFor returns the companies a search finds: the one with the
// code when a valid code is given, two namesakes otherwise; nil when the
// code is invalid.
func candidatesFor(name, code string) []candidate {
	name, code = strings.ToUpper(strings.TrimSpace(name)), strings.TrimSpace(code)
	if code != "" {
		if itcheck.CodiceFiscale(code) != nil {
			return nil
		}
		if name == "" {
			name = "SOCIETA' " + code
		}
		return []candidate{company(name+" S.R.L.", code, 0)}
	}
	return []candidate{
		company(name+" SRL", partitaIVA(name, 0), 0),
		company(name+" SOCIETA' A RESPONSABILITA' LIMITATA SEMPLIFICATA", partitaIVA(name, 1), 1),
	}
}

func company(name, code string, variant int) candidate {
	places := []struct{ cciaa, regione, comune, cap, via string }{
		{"RM", "12", "ROMA", "00143", "F TOMMASO MARINETTI"},
		{"CT", "19", "CATANIA", "95129", "DELLE SCALE"},
	}
	p := places[variant%len(places)]
	return candidate{
		Cciaa: p.cciaa, NRea: strconv.Itoa(100000 + int(sum32(code)%900000)), Denominazione: name,
		CodFisc: code, PIva: code,
		NatGiu:         coded{Cod: "SR", Gruppo: "1", Text: "SOCIETA' A RESPONSABILITA' LIMITATA"},
		StatoAttivitaR: stato{Cod: "R", Semaforo: "V", Text: "REGISTRATA"},
		Ateco07:        coded{Cod: "6201", Text: "Produzione di software non connesso all'edizione"},
		Indirizzo: indirizzo{Provincia: provincia{Regione: p.regione, Sigla: p.cciaa}, Comune: p.comune,
			Toponimo: "VIA", Via: p.via, NCivico: strconv.Itoa(1 + variant), Cap: p.cap},
		Completa: "S", IDBicAzienda: strconv.Itoa(120000 + int(sum32(code)%10000)),
	}
}

// partitaIVA makes a valid 11-digit partita IVA from a name.
func partitaIVA(name string, n int) string {
	digits := []byte(strconv.Itoa(int(1_000_000_000 + sum32(name+strconv.Itoa(n))%900_000_000)))
	sum := 0
	for i, d := range digits {
		v := int(d - '0')
		if i%2 == 1 {
			if v *= 2; v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return string(digits) + strconv.Itoa((10-sum%10)%10)
}

func sum32(s string) uint64 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return uint64(h.Sum32())
}

// addRicerca is POST /richiesta/{id}: one more search on a search service.
func (s *Server) addRicerca(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !validID(id) {
		fail(w, http.StatusBadRequest, visengine.CodeInvalidIDRicerca, "Invalid id")
		return
	}
	body, _ := readBody(r)
	s.respond(w, func() (*richiesta, *apiError) {
		rq := s.richieste[id]
		if e := searchable(rq, body["json_visura"]); e != nil {
			return nil, e
		}
		values, err := readValues(body["json_visura"])
		if err != nil || !rq.svc.satisfies(values) {
			return nil, &apiError{http.StatusPreconditionFailed, visengine.CodeInsufficientData, "Insufficient data to validate the request: "}
		}
		if e := s.chargeSearchLocked(rq); e != nil {
			return nil, e
		}
		now := time.Now().Unix()
		rq.appendSearch(values)
		rq.updated, rq.stati.InRicerca = now, stamp(now)
		s.searchDoneLocked(rq)
		return rq, nil
	})
}

// chargeSearchLocked charges an added search its price, the service's
// prezzo_ricerca (nothing when that is 0), or refuses it with the spec's
// 402/225 when the wallet is short.
func (s *Server) chargeSearchLocked(rq *richiesta) *apiError {
	price := rq.svc.v.PrezzoRicerca
	if price.Sign() <= 0 {
		return nil
	}
	if s.wallet.Cmp(price) < 0 {
		return insufficientCredit(visengine.CodeInsufficientCreditRicerca, s.wallet)
	}
	s.chargeLocked(rq.id, "ricerca", price)
	return nil
}

// searchable checks that rq can take another search. An unknown id gets
// the same answer as a draft: 404/221 is the spec's only 404 for this call,
// as if the server looked for a finalized richiesta with that id.
func searchable(rq *richiesta, jsonVisura json.RawMessage) *apiError {
	switch {
	case rq == nil || rq.state == 0:
		return &apiError{http.StatusNotFound, visengine.CodeNotFinalized, "the request is in state 0, not yet finalized"}
	case !bool(rq.svc.v.HasRicerca) || rq.stato != statoInRicerca:
		return &apiError{http.StatusConflict, visengine.CodeRicercaNotAllowed, "this request does not allow the addition of a search"}
	case absent(jsonVisura):
		return &apiError{http.StatusPreconditionRequired, visengine.CodeJSONVisuraRequired, "json_visura required"}
	}
	return nil
}

// chooseRisultato is PUT /richiesta/{id}/ricerche: pick a candidate, pay the
// search, and let the richiesta go on to "In erogazione".
func (s *Server) chooseRisultato(w http.ResponseWriter, r *http.Request) {
	body, _ := readBody(r)
	s.respond(w, func() (*richiesta, *apiError) {
		rq, e := s.lookupLocked(r.PathValue("id"))
		if e != nil {
			return nil, e
		}
		rc, n, e := chosen(rq, body)
		if e != nil {
			return nil, e
		}
		price := rq.svc.v.PrezzoRicerca
		if s.wallet.Cmp(price) < 0 {
			return nil, insufficientCredit(visengine.CodeInsufficientCreditRisultato, s.wallet)
		}
		s.chargeLocked(rq.id, "ricerca", price)
		now := time.Now().Unix()
		rq.idRicerca, rq.indice = &rc.id, &n
		rq.stato, rq.stati.InErogazione, rq.updated = statoInErogazione, stamp(now), now
		s.scheduleLocked(rq)
		return rq, nil
	})
}

// chosen finds the search and candidate a PUT …/ricerche body names; without
// id_ricerca it is the last search.
func chosen(rq *richiesta, body map[string]json.RawMessage) (*ricerca, int, *apiError) {
	invalid := &apiError{http.StatusPreconditionRequired, visengine.CodeInvalidIndice, "indice not valid or required"}
	if !bool(rq.svc.v.HasRicerca) || rq.state == 0 || rq.stato != statoInRicerca {
		return nil, 0, &apiError{http.StatusConflict, visengine.CodeNoRisultati,
			"the request does not produce results to choose from, it is processed directly with the POST"}
	}
	n, ok := readIndice(body["indice"])
	switch {
	case !ok:
		return nil, 0, invalid
	case n < 0:
		return nil, 0, &apiError{http.StatusBadRequest, visengine.CodeNegativeIndice, "indice must be >= 0"}
	}
	rc := rq.ricerche[len(rq.ricerche)-1]
	if want, _ := scalarText(body["id_ricerca"]); want != "" {
		rc = rq.findSearch(want)
	}
	if rc == nil || rc.risultato == nil || n >= rc.count {
		return nil, 0, invalid
	}
	return rc, n, nil
}

func (rq *richiesta) findSearch(id string) *ricerca {
	for _, rc := range rq.ricerche {
		if rc.id == id {
			return rc
		}
	}
	return nil
}

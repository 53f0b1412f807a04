package visenginetest

import (
	"errors"
	"fmt"
	"time"

	"github.com/visengine-go/visengine"
)

// Errors of Advance, Complete and Cancel.
var (
	// ErrUnknownRichiesta: no richiesta has this id.
	ErrUnknownRichiesta = errors.New("visenginetest: unknown richiesta")
	// ErrCannotAdvance: the richiesta is a draft, waits for a search result
	// to be chosen, or is finished or cancelled.
	ErrCannotAdvance = errors.New("visenginetest: richiesta cannot advance")
)

func stamp(t int64) *int64 { return &t }

// begin submits rq: a plain service goes straight to "In erogazione" (its
// only search is the input, already "evasa"), a search service runs its
// first search and waits "In ricerca". It has no side effects, so a test
// richiesta can show the same answer without being kept.
func (s *Server) begin(rq *richiesta, now int64) {
	rq.state, rq.updated = 1, now
	rq.stati.InRicerca = stamp(now)
	if rq.svc.v.HasRicerca {
		rq.stato = statoInRicerca
		rq.appendSearch(rq.values)
		return
	}
	rq.stato = statoInErogazione
	rq.stati.InErogazione = stamp(now)
	rq.ricerche = []*ricerca{{id: rq.id + "_0", stato: ricercaEvasa, input: rq.values}}
}

// startLocked submits a stored richiesta and sets off what follows: the
// search callback, or the progress timer.
func (s *Server) startLocked(rq *richiesta) {
	s.begin(rq, time.Now().Unix())
	if rq.stato == statoInRicerca {
		s.searchDoneLocked(rq)
		return
	}
	s.scheduleLocked(rq)
}

// searchDoneLocked notifies the callback when the last search has results.
func (s *Server) searchDoneLocked(rq *richiesta) {
	if last := rq.ricerche[len(rq.ricerche)-1]; last.risultato != nil {
		s.notifyLocked(rq)
	}
}

// advanceLocked moves rq one state on.
func (s *Server) advanceLocked(rq *richiesta) error {
	now := time.Now()
	switch rq.stato {
	case statoInErogazione:
		rq.stato, rq.stati.DatiDisponibili, rq.readyAt = statoDatiDisponibili, stamp(now.Unix()), now
		s.notifyLocked(rq)
	case statoDatiDisponibili:
		rq.stato, rq.stati.VisuraEvasa = statoVisuraEvasa, stamp(now.Unix())
	default:
		return fmt.Errorf("%w: %s is %q (state %d)", ErrCannotAdvance, rq.id, rq.stato, rq.state)
	}
	rq.updated = now.Unix()
	s.scheduleLocked(rq)
	return nil
}

// cancelLocked annuls rq. Nothing is refunded.
func (s *Server) cancelLocked(rq *richiesta) error {
	if rq.stato == statoVisuraEvasa || rq.stato == statoAnnullata {
		return fmt.Errorf("%w: %s is %q", ErrCannotAdvance, rq.id, rq.stato)
	}
	now := time.Now().Unix()
	rq.stato, rq.stati.Annullata, rq.updated = statoAnnullata, stamp(now), now
	s.stopTimerLocked(rq)
	return nil
}

// Advance moves a submitted richiesta one state on: "In erogazione" →
// "Dati disponibili" (the document is ready, the callback is sent) →
// "Visura evasa". It returns the new stato_richiesta.
func (s *Server) Advance(id string) (visengine.Stato, error) {
	s.applyDue()
	s.mu.Lock()
	defer s.mu.Unlock()
	rq := s.richieste[id]
	if rq == nil {
		return "", fmt.Errorf("%w: %s", ErrUnknownRichiesta, id)
	}
	if rq.state == 0 {
		return "", fmt.Errorf("%w: %s is a draft", ErrCannotAdvance, id)
	}
	err := s.advanceLocked(rq)
	return visengine.Stato(rq.stato), err
}

// Complete advances a submitted richiesta to "Visura evasa", through
// "Dati disponibili".
func (s *Server) Complete(id string) error {
	for {
		stato, err := s.Advance(id)
		if err != nil || stato == visengine.StatoVisuraEvasa {
			return err
		}
	}
}

// Cancel annuls a richiesta (stato "Annullata"), as an operator would; a
// draft can be cancelled too. The wallet is not refunded.
func (s *Server) Cancel(id string) error {
	s.applyDue()
	s.mu.Lock()
	defer s.mu.Unlock()
	rq := s.richieste[id]
	if rq == nil {
		return fmt.Errorf("%w: %s", ErrUnknownRichiesta, id)
	}
	return s.cancelLocked(rq)
}

// Stato returns a richiesta's stato_richiesta, and whether it exists.
func (s *Server) Stato(id string) (visengine.Stato, bool) {
	s.applyDue()
	s.mu.Lock()
	defer s.mu.Unlock()
	if rq := s.richieste[id]; rq != nil {
		return visengine.Stato(rq.stato), true
	}
	return "", false
}

// scheduleLocked arms the progress timer when WithAutoAdvance is set and rq
// has a state to move on to. Every armed timer is counted in s.bg until it
// has run or been stopped, so Close can wait for it.
func (s *Server) scheduleLocked(rq *richiesta) {
	if s.cfg.step <= 0 || s.closed || (rq.stato != statoInErogazione && rq.stato != statoDatiDisponibili) {
		return
	}
	s.stopTimerLocked(rq)
	s.bg.Add(1)
	var t *time.Timer
	t = time.AfterFunc(s.cfg.step, func() {
		defer s.bg.Done()
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed || rq.timer != t { // stopped or replaced while firing
			return
		}
		rq.timer = nil
		_ = s.advanceLocked(rq)
	})
	rq.timer = t
}

func (s *Server) stopTimerLocked(rq *richiesta) {
	if rq.timer != nil && rq.timer.Stop() {
		s.bg.Done()
	}
	rq.timer = nil
}

func (s *Server) stopTimersLocked() {
	for _, rq := range s.order {
		s.stopTimerLocked(rq)
	}
}

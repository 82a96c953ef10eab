/*
Copyright 2026 The kubesaga Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package stocks

import (
	"fmt"
	"net/http"

	"github.com/kubesaga/kubesaga/services/events"
	"github.com/kubesaga/kubesaga/services/httpapi"
	"github.com/kubesaga/kubesaga/services/idempotency"
	"github.com/kubesaga/kubesaga/services/participant"
	"github.com/kubesaga/kubesaga/services/storage"
)

// Reservation statuses.
const (
	StatusReserved  = "RESERVED"
	StatusCommitted = "COMMITTED"
	StatusReleased  = "RELEASED"
)

// Business event actions of this service.
const (
	ActionCreateReservation  = "CREATE_RESERVATION"
	ActionReleaseReservation = "RELEASE_RESERVATION"
	ActionCommitReservation  = "COMMIT_RESERVATION"
)

// scopeReservation keys idempotency records and tombstones of reservations.
const scopeReservation = "reservation"

// Line is one product of a reservation.
type Line struct {
	ProductID int64 `json:"productId"`
	Quantity  int64 `json:"quantity"`
}

// Reservation is the body of the reservation endpoints.
type Reservation struct {
	ID      string `json:"id"`
	StoreID int64  `json:"storeId"`
	Lines   []Line `json:"lines"`
	Status  string `json:"status"`
}

// putReservation takes stock for every line or for none. The reservation id is
// chosen by the caller (the Order UID), which makes the call idempotent: the
// first answer, success or refusal, is stored with the change and replayed.
func (s *Service) putReservation(w http.ResponseWriter, r *http.Request) {
	id, corr, p := httpapi.PathUUIDAndCorrelation(r, "id")
	if p != nil {
		httpapi.WriteProblem(w, p)
		return
	}
	spec, p := httpapi.ReadRequest(w, r, decodeReservation)
	if p != nil {
		httpapi.WriteProblem(w, p)
		return
	}
	hash, err := idempotency.Hash(spec)
	if err != nil {
		httpapi.Internal(w, r, s.Logger, err)
		return
	}
	do := participant.Do{Scope: scopeReservation, Key: id, RequestHash: hash,
		Action: ActionCreateReservation, Correlation: corr, Undone: "released"}
	answer, err := s.Idempotent(r.Context(), do, func(tx *storage.Tx) (httpapi.Answer, error) {
		return s.reserve(tx, id, corr, spec)
	})
	if err != nil {
		httpapi.Internal(w, r, s.Logger, fmt.Errorf("reserve stock for %s: %w", id, err))
		return
	}
	httpapi.WriteAnswer(w, answer)
}

// reserve checks every line before touching any, so a refusal changes nothing
// but the event log. The write transaction is IMMEDIATE and the only writer, so
// no other reservation can take the stock between the check and the update.
func (s *Service) reserve(tx *storage.Tx, id, corr string, spec reservationSpec) (httpapi.Answer, error) {
	for _, l := range spec.Lines {
		level, _, err := readLevel(tx, spec.StoreID, l.ProductID) // an unknown product simply has no stock
		if err != nil {
			return httpapi.Answer{}, err
		}
		available := level.Quantity
		if available < l.Quantity {
			detail := fmt.Sprintf("product %d in store %d: %d requested, %d available", l.ProductID, spec.StoreID, l.Quantity, available)
			p := httpapi.NewProblem(http.StatusConflict, httpapi.SlugInsufficientStock, "Insufficient stock", detail)
			p.Extensions = map[string]any{"productId": l.ProductID, "requested": l.Quantity, "available": available}
			if err := s.Events.Append(tx, ActionCreateReservation, events.Failure, corr, "insufficient stock: "+detail); err != nil {
				return httpapi.Answer{}, err
			}
			return httpapi.ProblemAnswer(p), nil
		}
	}
	now := storage.FormatTime(tx.Now)
	if _, err := tx.Exec(`INSERT INTO reservations (id, store_id, status, correlation_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
		id, spec.StoreID, StatusReserved, corr, now, now); err != nil {
		return httpapi.Answer{}, fmt.Errorf("insert reservation: %w", err)
	}
	var units int64
	for i, l := range spec.Lines {
		if _, err := tx.Exec(`UPDATE stock_levels SET held = held + ?, updated_at = ? WHERE store_id = ? AND product_id = ?`,
			l.Quantity, now, spec.StoreID, l.ProductID); err != nil {
			return httpapi.Answer{}, fmt.Errorf("hold stock of product %d: %w", l.ProductID, err)
		}
		if _, err := tx.Exec(`INSERT INTO reservation_lines (reservation_id, line_no, product_id, quantity) VALUES (?, ?, ?, ?)`,
			id, i, l.ProductID, l.Quantity); err != nil {
			return httpapi.Answer{}, fmt.Errorf("insert reservation line: %w", err)
		}
		units += l.Quantity
	}
	if err := s.Events.Append(tx, ActionCreateReservation, events.Success, corr,
		fmt.Sprintf("reserved %d units over %d lines in store %d", units, len(spec.Lines), spec.StoreID)); err != nil {
		return httpapi.Answer{}, err
	}
	return httpapi.JSONAnswer(http.StatusCreated, Reservation{ID: id, StoreID: spec.StoreID, Lines: spec.Lines, Status: StatusReserved})
}

func (s *Service) getReservation(w http.ResponseWriter, r *http.Request) {
	id, p := httpapi.PathUUID(r, "id")
	if p != nil {
		httpapi.WriteProblem(w, p)
		return
	}
	res, found, err := loadReservation(r.Context(), s.DB.Reader(), id)
	if err != nil {
		httpapi.Internal(w, r, s.Logger, err)
		return
	}
	if !found {
		httpapi.WriteProblem(w, httpapi.NotFound("no reservation "+id))
		return
	}
	_ = httpapi.WriteJSON(w, http.StatusOK, res)
}

// deleteReservation releases a reservation and gives its stock back exactly
// once. It always leaves a tombstone, so that a PUT arriving late (after the
// saga already compensated) is refused instead of taking stock nobody releases.
func (s *Service) deleteReservation(w http.ResponseWriter, r *http.Request) {
	id, corr, p := httpapi.PathUUIDAndCorrelation(r, "id")
	if p != nil {
		httpapi.WriteProblem(w, p)
		return
	}
	err := s.DB.Write(r.Context(), func(tx *storage.Tx) error {
		dead, err := idempotency.Tombstoned(tx, scopeReservation, id)
		if err != nil {
			return err
		}
		if err := idempotency.Bury(tx, scopeReservation, id); err != nil {
			return err
		}
		res, found, err := loadReservation(r.Context(), tx, id)
		if err != nil {
			return err
		}
		switch {
		case !found && dead, found && res.Status == StatusReleased:
			return nil // a repeat: already released, nothing to give back again
		case !found:
			return s.Events.Append(tx, ActionReleaseReservation, events.Success, corr,
				"no such reservation; tombstone left so a late reservation is refused")
		}
		now := storage.FormatTime(tx.Now)
		var units int64
		for _, l := range res.Lines {
			// A RESERVED reservation only stops holding its units: the units on hand never
			// changed, so nothing is created (even if the count was set meanwhile). A
			// COMMITTED one gives back units that were taken off the shelf (the sale is undone).
			stmt := `UPDATE stock_levels SET held = MAX(held - ?, 0), updated_at = ? WHERE store_id = ? AND product_id = ?`
			if res.Status == StatusCommitted {
				stmt = `UPDATE stock_levels SET quantity = quantity + ?, updated_at = ? WHERE store_id = ? AND product_id = ?`
			}
			if _, err := tx.Exec(stmt, l.Quantity, now, res.StoreID, l.ProductID); err != nil {
				return fmt.Errorf("restore stock of product %d: %w", l.ProductID, err)
			}
			units += l.Quantity
		}
		if _, err := tx.Exec(`UPDATE reservations SET status = ?, updated_at = ? WHERE id = ?`, StatusReleased, now, id); err != nil {
			return fmt.Errorf("mark reservation released: %w", err)
		}
		return s.Events.Append(tx, ActionReleaseReservation, events.Success, corr,
			fmt.Sprintf("released %s reservation; %d units restored", res.Status, units))
	})
	if err != nil {
		httpapi.Internal(w, r, s.Logger, fmt.Errorf("release reservation %s: %w", id, err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// scopeCommit keys the first answer of each commit.
const scopeCommit = "reservation-commit"

// commitReservation marks the stock as sold for good (after the sale, the pivot). Its
// first answer is stored and repeated, refusals included; a release (its tombstone)
// refuses it from then on.
func (s *Service) commitReservation(w http.ResponseWriter, r *http.Request) {
	id, corr, p := httpapi.PathUUIDAndCorrelation(r, "id")
	if p != nil {
		httpapi.WriteProblem(w, p)
		return
	}
	var answer httpapi.Answer
	err := s.DB.Write(r.Context(), func(tx *storage.Tx) error {
		dead, err := idempotency.Tombstoned(tx, scopeReservation, id)
		if err != nil {
			return err
		}
		if dead {
			answer = httpapi.ProblemAnswer(httpapi.AlreadyCompensated(fmt.Sprintf("reservation %s was released; it cannot be committed", id)))
			return s.Events.Append(tx, ActionCommitReservation, events.Failure, corr, "refused: already released")
		}
		rec, seen, err := idempotency.Lookup(tx, scopeCommit, id)
		if err != nil {
			return err
		}
		if seen {
			answer = httpapi.Answer{Status: rec.Status, Body: rec.Body}
			return nil
		}
		res, found, err := loadReservation(r.Context(), tx, id)
		if err != nil {
			return err
		}
		if !found {
			// Not an answer about a reservation: not kept, nothing written.
			answer = httpapi.ProblemAnswer(httpapi.NotFound("no reservation " + id))
			return nil
		}
		if answer, err = s.commit(tx, res, corr); err != nil {
			return err
		}
		return idempotency.Save(tx, scopeCommit, id, idempotency.Record{RequestHash: id, Status: answer.Status, Body: answer.Body})
	})
	if err != nil {
		httpapi.Internal(w, r, s.Logger, fmt.Errorf("commit reservation %s: %w", id, err))
		return
	}
	httpapi.WriteAnswer(w, answer)
}

// commit answers a commit seen for the first time, from the reservation's state.
func (s *Service) commit(tx *storage.Tx, res Reservation, corr string) (httpapi.Answer, error) {
	id := res.ID
	switch res.Status {
	case StatusReleased:
		return httpapi.ProblemAnswer(httpapi.AlreadyCompensated(fmt.Sprintf("reservation %s was released; it cannot be committed", id))),
			s.Events.Append(tx, ActionCommitReservation, events.Failure, corr, "refused: already released")
	case StatusReserved:
		now := storage.FormatTime(tx.Now)
		if _, err := tx.Exec(`UPDATE reservations SET status = ?, updated_at = ? WHERE id = ?`, StatusCommitted, now, id); err != nil {
			return httpapi.Answer{}, fmt.Errorf("mark reservation committed: %w", err)
		}
		for _, l := range res.Lines {
			// Sold: the units leave the shelf and are no longer held. On hand may have been
			// set below what was held; it never goes below zero.
			if _, err := tx.Exec(`UPDATE stock_levels SET quantity = MAX(quantity - ?, 0), held = MAX(held - ?, 0), updated_at = ?
				WHERE store_id = ? AND product_id = ?`, l.Quantity, l.Quantity, now, res.StoreID, l.ProductID); err != nil {
				return httpapi.Answer{}, fmt.Errorf("take sold stock of product %d: %w", l.ProductID, err)
			}
		}
		res.Status = StatusCommitted
		if err := s.Events.Append(tx, ActionCommitReservation, events.Success, corr, "committed"); err != nil {
			return httpapi.Answer{}, err
		}
	}
	return httpapi.JSONAnswer(http.StatusOK, res)
}

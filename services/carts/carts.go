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

package carts

import (
	"fmt"
	"net/http"

	"github.com/google/uuid"

	"github.com/kubesaga/kubesaga/services/events"
	"github.com/kubesaga/kubesaga/services/httpapi"
	"github.com/kubesaga/kubesaga/services/idempotency"
	"github.com/kubesaga/kubesaga/services/orderlines"
	"github.com/kubesaga/kubesaga/services/storage"
)

// Cart statuses.
const (
	StatusOpen       = "OPEN"
	StatusLocked     = "LOCKED"
	StatusCheckedOut = "CHECKED_OUT"
)

// Business event actions of this service.
const (
	ActionCreateCart   = "CREATE_CART"
	ActionLockCart     = "LOCK_CART"
	ActionUnlockCart   = "UNLOCK_CART"
	ActionCheckoutCart = "CHECKOUT_CART"
)

// scopeLock keys the tombstones left by unlock, per cart and order: an order
// that gave a cart back (or gave it back before locking it) cannot lock it again.
// It also keys the first answer of each lock; scopeCheckout that of each checkout.
const (
	scopeLock     = "cart-lock"
	scopeCheckout = "cart-checkout"
)

func lockKey(cartID, orderID string) string { return cartID + "/" + orderID }

// Cart is the body of the cart endpoints.
type Cart struct {
	ID       string            `json:"id"`
	StoreID  int64             `json:"storeId"`
	Status   string            `json:"status"`
	LockedBy string            `json:"lockedBy,omitempty"`
	Lines    []orderlines.Line `json:"lines"`
	Total    string            `json:"total"`
}

// createCart stores a new cart. Carts are not saga steps, but a caller may
// choose the id to make seeding repeatable: the same id and content answer the
// current cart (200), the same id with other content is a 409 conflict.
func (s *Service) createCart(w http.ResponseWriter, r *http.Request) {
	spec, p := httpapi.ReadRequest(w, r, decodeCart)
	if p != nil {
		httpapi.WriteProblem(w, p)
		return
	}
	if spec.ID == "" {
		spec.ID = uuid.NewString()
	}
	corr, p := httpapi.CorrelationID(r, spec.ID)
	if p != nil {
		httpapi.WriteProblem(w, p)
		return
	}
	hash, err := idempotency.Hash(spec)
	if err != nil {
		httpapi.Internal(w, r, s.Logger, err)
		return
	}
	var answer httpapi.Answer
	err = s.DB.Write(r.Context(), func(tx *storage.Tx) error {
		existing, existingHash, found, err := loadCart(r.Context(), tx, spec.ID)
		if err != nil {
			return err
		}
		if found {
			if existingHash != hash {
				answer = httpapi.ProblemAnswer(httpapi.NewProblem(http.StatusConflict, httpapi.SlugConflict, "Conflict",
					fmt.Sprintf("cart %s exists with different content", spec.ID)))
				return s.Events.Append(tx, ActionCreateCart, events.Failure, corr, "refused: id taken by a different cart")
			}
			answer, err = httpapi.JSONAnswer(http.StatusOK, existing)
			return err
		}
		now := storage.FormatTime(tx.Now)
		if _, err := tx.Exec(`INSERT INTO carts (id, store_id, status, locked_by, request_hash, created_at, updated_at)
			VALUES (?, ?, ?, NULL, ?, ?, ?)`,
			spec.ID, spec.StoreID, StatusOpen, hash, now, now); err != nil {
			return fmt.Errorf("insert cart: %w", err)
		}
		for i, l := range spec.Lines {
			if _, err := tx.Exec(`INSERT INTO cart_lines (cart_id, line_no, product_id, quantity, unit_price_cents) VALUES (?, ?, ?, ?, ?)`,
				spec.ID, i, l.ProductID, l.Quantity, int64(l.Cents)); err != nil {
				return fmt.Errorf("insert cart line: %w", err)
			}
		}
		total, err := orderlines.Total(spec.Lines)
		if err != nil {
			return err
		}
		if err := s.Events.Append(tx, ActionCreateCart, events.Success, corr,
			fmt.Sprintf("cart of %d lines in store %d, total %s", len(spec.Lines), spec.StoreID, total)); err != nil {
			return err
		}
		answer, err = httpapi.JSONAnswer(http.StatusCreated, Cart{ID: spec.ID, StoreID: spec.StoreID, Status: StatusOpen,
			Lines: spec.Lines, Total: total.String()})
		return err
	})
	if err != nil {
		httpapi.Internal(w, r, s.Logger, fmt.Errorf("create cart %s: %w", spec.ID, err))
		return
	}
	if answer.Status < 300 {
		w.Header().Set("Location", "/api/carts/"+spec.ID)
	}
	httpapi.WriteAnswer(w, answer)
}

func (s *Service) getCart(w http.ResponseWriter, r *http.Request) {
	id, p := httpapi.PathUUID(r, "id")
	if p != nil {
		httpapi.WriteProblem(w, p)
		return
	}
	c, _, found, err := loadCart(r.Context(), s.DB.Reader(), id)
	if err != nil {
		httpapi.Internal(w, r, s.Logger, err)
		return
	}
	if !found {
		httpapi.WriteProblem(w, httpapi.NotFound("no cart "+id))
		return
	}
	_ = httpapi.WriteJSON(w, http.StatusOK, c)
}

// orderCall reads what lock, unlock and checkout share: the cart id, the
// {orderId} body and the correlation id (default: the order id).
func orderCall(w http.ResponseWriter, r *http.Request) (cartID, orderID, corr string, p *httpapi.Problem) {
	if cartID, p = httpapi.PathUUID(r, "id"); p != nil {
		return "", "", "", p
	}
	if orderID, p = httpapi.ReadRequest(w, r, decodeOrder); p != nil {
		return "", "", "", p
	}
	corr, p = httpapi.CorrelationID(r, orderID)
	return cartID, orderID, corr, p
}

// lockCart gives the cart to one order, which the saga does first so that the
// cart cannot change or be bought twice while the order runs.
func (s *Service) lockCart(w http.ResponseWriter, r *http.Request) {
	s.transition(w, r, ActionLockCart, scopeLock, func(tx *storage.Tx, c *Cart, orderID string) (*httpapi.Problem, bool, error) {
		switch {
		case c.LockedBy == orderID:
			return nil, false, nil // a repeat: this order holds it already
		case c.Status != StatusOpen:
			return unavailable(c), false, nil
		}
		c.Status, c.LockedBy = StatusLocked, orderID
		_, err := tx.Exec(`UPDATE carts SET status = ?, locked_by = ?, updated_at = ? WHERE id = ?`,
			c.Status, orderID, storage.FormatTime(tx.Now), c.ID)
		return nil, true, err
	})
}

// checkoutCart ends the cart's life after the sale (a retriable step: it only
// succeeds for the order that locked the cart).
func (s *Service) checkoutCart(w http.ResponseWriter, r *http.Request) {
	s.transition(w, r, ActionCheckoutCart, scopeCheckout, func(tx *storage.Tx, c *Cart, orderID string) (*httpapi.Problem, bool, error) {
		switch {
		case c.Status == StatusOpen:
			return httpapi.NewProblem(http.StatusConflict, httpapi.SlugCartUnavailable, "Cart not locked",
				fmt.Sprintf("cart %s is not locked by order %s (it is OPEN)", c.ID, orderID)), false, nil
		case c.LockedBy != orderID:
			return unavailable(c), false, nil
		case c.Status == StatusCheckedOut:
			return nil, false, nil // a repeat
		}
		c.Status = StatusCheckedOut
		_, err := tx.Exec(`UPDATE carts SET status = ?, updated_at = ? WHERE id = ?`, c.Status, storage.FormatTime(tx.Now), c.ID)
		return nil, true, err
	})
}

func unavailable(c *Cart) *httpapi.Problem {
	detail := fmt.Sprintf("cart %s is locked by another order", c.ID)
	if c.Status == StatusCheckedOut {
		detail = fmt.Sprintf("cart %s is checked out by another order", c.ID)
	}
	return httpapi.NewProblem(http.StatusConflict, httpapi.SlugCartUnavailable, "Cart unavailable", detail)
}

// transition runs the checks lock and checkout share (this order has not given
// the cart back, the call was not answered before, the cart exists) and then
// step, which either refuses with a problem or changes the cart; both outcomes
// are recorded as events in the same transaction. The answer is the cart as it
// stands, and it is stored per (scope, cart, order) with the change: a repeat
// answers the first answer, refusals included, whatever the cart became since
// (a lock refused because another order held the cart stays refused after that
// order let go, so a late lock of a finished saga cannot take the cart).
func (s *Service) transition(w http.ResponseWriter, r *http.Request, action, scope string,
	step func(tx *storage.Tx, c *Cart, orderID string) (refusal *httpapi.Problem, changed bool, err error)) {
	cartID, orderID, corr, p := orderCall(w, r)
	if p != nil {
		httpapi.WriteProblem(w, p)
		return
	}
	key := lockKey(cartID, orderID)
	var answer httpapi.Answer
	err := s.DB.Write(r.Context(), func(tx *storage.Tx) error {
		refuse := func(p *httpapi.Problem) error {
			answer = httpapi.ProblemAnswer(p)
			return s.Events.Append(tx, action, events.Failure, corr, "refused: "+p.Detail)
		}
		c, _, found, err := loadCart(r.Context(), tx, cartID)
		if err != nil {
			return err
		}
		if !found {
			return refuse(httpapi.NotFound("no cart " + cartID)) // not an answer about the cart: not kept
		}
		// The tombstone wins over a stored answer: replaying "locked" to an order that
		// unlocked the cart since would lie.
		dead, err := idempotency.Tombstoned(tx, scopeLock, key)
		if err != nil {
			return err
		}
		if dead {
			return refuse(httpapi.AlreadyCompensated(fmt.Sprintf("order %s already unlocked cart %s", orderID, cartID)))
		}
		rec, seen, err := idempotency.Lookup(tx, scope, key)
		if err != nil {
			return err
		}
		if seen {
			answer = httpapi.Answer{Status: rec.Status, Body: rec.Body}
			return nil
		}
		refusal, changed, err := step(tx, &c, orderID)
		switch {
		case err != nil:
			return fmt.Errorf("%s: %w", action, err)
		case refusal != nil:
			if err := refuse(refusal); err != nil {
				return err
			}
		case changed:
			if err := s.Events.Append(tx, action, events.Success, corr, fmt.Sprintf("cart %s is %s", cartID, c.Status)); err != nil {
				return err
			}
			fallthrough
		default:
			if answer, err = httpapi.JSONAnswer(http.StatusOK, c); err != nil {
				return err
			}
		}
		return idempotency.Save(tx, scope, key, idempotency.Record{RequestHash: orderID, Status: answer.Status, Body: answer.Body})
	})
	if err != nil {
		httpapi.Internal(w, r, s.Logger, fmt.Errorf("%s %s: %w", action, cartID, err))
		return
	}
	httpapi.WriteAnswer(w, answer)
}

// unlockCart gives the cart back (compensation of lock, and the undo of a
// checkout when an Order is deleted with the Compensate policy). Only the
// order holding the cart changes it; any other call changes nothing. Every
// call leaves a tombstone for (cart, order), so this order's lock arriving
// late is refused instead of locking a cart nobody will unlock.
func (s *Service) unlockCart(w http.ResponseWriter, r *http.Request) {
	cartID, orderID, corr, p := orderCall(w, r)
	if p != nil {
		httpapi.WriteProblem(w, p)
		return
	}
	err := s.DB.Write(r.Context(), func(tx *storage.Tx) error {
		key := lockKey(cartID, orderID)
		dead, err := idempotency.Tombstoned(tx, scopeLock, key)
		if err != nil {
			return err
		}
		if err := idempotency.Bury(tx, scopeLock, key); err != nil {
			return err
		}
		c, _, found, err := loadCart(r.Context(), tx, cartID)
		if err != nil {
			return err
		}
		if found && c.LockedBy == orderID {
			if _, err := tx.Exec(`UPDATE carts SET status = ?, locked_by = NULL, updated_at = ? WHERE id = ?`,
				StatusOpen, storage.FormatTime(tx.Now), cartID); err != nil {
				return fmt.Errorf("unlock cart: %w", err)
			}
			return s.Events.Append(tx, ActionUnlockCart, events.Success, corr, fmt.Sprintf("cart %s is OPEN again (was %s)", cartID, c.Status))
		}
		if dead {
			return nil // a repeat
		}
		return s.Events.Append(tx, ActionUnlockCart, events.Success, corr,
			fmt.Sprintf("cart %s not held by this order; nothing changed, tombstone left", cartID))
	})
	if err != nil {
		httpapi.Internal(w, r, s.Logger, fmt.Errorf("unlock cart %s: %w", cartID, err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

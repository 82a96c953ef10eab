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

// Package ordersaga defines the Order saga: its steps, in order, and the participant call
// behind each step and each compensation. It is Kubernetes-free; the reconciler feeds it.
package ordersaga

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/kubesaga/kubesaga/internal/participants"
	"github.com/kubesaga/kubesaga/internal/saga"
)

// Input is what a saga run needs from the Order.
type Input struct {
	OrderID string // the Order's UID: keys every participant call
	CartID  string
	StoreID int64
}

// Output is what the steps learn on the way; the reconciler copies it into status.
type Output struct {
	Lines         []participants.Line // the cart's lines, with unit prices
	ReservationID string
	SaleID        string
	Total         string
}

// Participants are the clients the steps call.
type Participants struct {
	Carts  *participants.Carts
	Stocks *participants.Stocks
	Sales  *participants.Sales
}

type call func(ctx context.Context, p Participants, in Input, out *Output) error

type step struct {
	saga.Step
	do, undo, probe call
}

// steps is the whole saga: adding a step is one entry here.
var steps = []step{
	{saga.Step{Name: "LockCart", Kind: saga.Compensatable, Undo: "UnlockCart",
		DoneEvent: "CART_LOCKED", UndoneEvent: "CART_UNLOCKED"}, lockCart, unlockCart, nil},
	{saga.Step{Name: "ReserveStock", Kind: saga.Compensatable, Undo: "ReleaseStock",
		DoneEvent: "STOCK_RESERVED", UndoneEvent: "STOCK_RELEASED"}, reserveStock, releaseStock, nil},
	{saga.Step{Name: "CreateSale", Kind: saga.Pivot, Undo: "CancelSale", Probe: "GetSale",
		DoneEvent: "SALE_CREATED", UndoneEvent: "SALE_CANCELLED"}, createSale, cancelSale, getSale},
	{saga.Step{Name: "CommitReservation", Kind: saga.Retriable,
		DoneEvent: "RESERVATION_COMMITTED"}, commitReservation, nil, nil},
	{saga.Step{Name: "CheckoutCart", Kind: saga.Retriable,
		DoneEvent: "CART_CHECKED_OUT"}, checkoutCart, nil, nil},
}

// Definition returns the Order saga under the given retry policy.
func Definition(p saga.Policy) saga.Definition {
	def := saga.Definition{Policy: p, Steps: make([]saga.Step, len(steps))}
	for i, s := range steps {
		def.Steps[i] = s.Step
	}
	return def
}

// Call performs the participant call that act asks for.
func Call(ctx context.Context, p Participants, act saga.Action, in Input, out *Output) error {
	if act.Step < 0 || act.Step >= len(steps) {
		return fmt.Errorf("order saga has no step %d", act.Step)
	}
	s := steps[act.Step]
	ctx = participants.WithCorrelationID(ctx, in.OrderID)
	switch {
	case act.Type == saga.ActDo:
		return s.do(ctx, p, in, out)
	case act.Type == saga.ActUndo && s.undo != nil:
		return s.undo(ctx, p, in, out)
	case act.Type == saga.ActProbe && s.probe != nil:
		return s.probe(ctx, p, in, out)
	default:
		return fmt.Errorf("order saga cannot %s step %s", act.Type, s.Name)
	}
}

// wrap names the call in a refusal; a transient error names it already (its Op).
func wrap(call string, err error) error {
	var t *participants.TransientError
	if errors.As(err, &t) {
		return err
	}
	return fmt.Errorf("%s: %w", call, err)
}

func lockCart(ctx context.Context, p Participants, in Input, out *Output) error {
	cart, err := p.Carts.Lock(ctx, in.CartID, in.OrderID)
	if participants.RefusalType(err) == alreadyCompensated {
		// This order gave the cart back. If it did so because the cart belongs to another
		// store (and the process died before it recorded that), say so again.
		if c, getErr := p.Carts.Get(ctx, in.CartID); getErr == nil && c.StoreID != in.StoreID {
			return storeMismatch(in, c.StoreID)
		}
	}
	if err != nil {
		return wrap("lock cart", err)
	}
	if cart.StoreID != in.StoreID {
		// A refused step is never undone, so give the lock back before refusing.
		if err := p.Carts.Unlock(ctx, in.CartID, in.OrderID); err != nil {
			return wrap("unlock cart of another store", err)
		}
		return storeMismatch(in, cart.StoreID)
	}
	out.Lines = cart.Lines
	return nil
}

// alreadyCompensated is the problem type of a do whose undo already ran.
const alreadyCompensated = "already-compensated"

func storeMismatch(in Input, cartStore int64) error {
	return &participants.Refusal{Status: 409, Type: "store-mismatch", Title: "Store mismatch",
		Detail: fmt.Sprintf("cart %s belongs to store %d, not to spec.storeId %d", in.CartID, cartStore, in.StoreID)}
}

func unlockCart(ctx context.Context, p Participants, in Input, _ *Output) error {
	if err := p.Carts.Unlock(ctx, in.CartID, in.OrderID); err != nil {
		return wrap("unlock cart", err)
	}
	return nil
}

// cartLines returns the locked cart's lines, reading them again after a restart: a
// locked cart cannot change, so the read answers what the lock answered.
func cartLines(ctx context.Context, p Participants, in Input, out *Output) ([]participants.Line, error) {
	if len(out.Lines) > 0 {
		return out.Lines, nil
	}
	cart, err := p.Carts.Get(ctx, in.CartID)
	if err != nil {
		return nil, wrap("read cart lines", err)
	}
	out.Lines = cart.Lines
	return cart.Lines, nil
}

func reserveStock(ctx context.Context, p Participants, in Input, out *Output) error {
	lines, err := cartLines(ctx, p, in, out)
	if err != nil {
		return err
	}
	if _, err := p.Stocks.Reserve(ctx, in.OrderID, in.StoreID, lines); err != nil {
		return wrap("reserve stock", err)
	}
	out.ReservationID = in.OrderID
	return nil
}

func releaseStock(ctx context.Context, p Participants, in Input, _ *Output) error {
	if err := p.Stocks.Release(ctx, in.OrderID); err != nil {
		return wrap("release stock", err)
	}
	return nil
}

func createSale(ctx context.Context, p Participants, in Input, out *Output) error {
	lines, err := cartLines(ctx, p, in, out)
	if err != nil {
		return err
	}
	sale, err := p.Sales.Create(ctx, in.OrderID, in.StoreID, in.OrderID, lines)
	if err != nil {
		return wrap("create sale", err)
	}
	out.SaleID, out.Total = sale.ID, sale.Total
	return nil
}

func cancelSale(ctx context.Context, p Participants, in Input, _ *Output) error {
	if err := p.Sales.Cancel(ctx, in.OrderID); err != nil {
		return wrap("cancel sale", err)
	}
	return nil
}

// getSale is the pivot's probe: does the sale of this Order stand? Found and not
// cancelled, it also gives the sale's id and total. Not found (404), or cancelled (the
// sales service keeps a cancelled sale, and its effect is undone), is the refusal that
// lets compensation go ahead; any other refusal (a misconfigured participant) must not
// decide that, so it is retried like an outage.
func getSale(ctx context.Context, p Participants, in Input, out *Output) error {
	sale, err := p.Sales.Get(ctx, in.OrderID)
	var r *participants.Refusal
	switch {
	case err == nil && sale.Status == saleCancelled:
		return &participants.Refusal{Status: http.StatusGone, Type: "sale-cancelled", Title: "Sale cancelled",
			Detail: "get sale: sale " + sale.ID + " was cancelled"}
	case err == nil:
		out.SaleID, out.Total = sale.ID, sale.Total
		return nil
	case errors.As(err, &r) && r.Status != http.StatusNotFound:
		return &participants.TransientError{Op: "get sale", Err: err}
	}
	return wrap("get sale", err)
}

// saleCancelled is the status of a sale that CancelSale undid (docs/participant-protocol.md).
const saleCancelled = "CANCELLED"

func commitReservation(ctx context.Context, p Participants, in Input, _ *Output) error {
	if _, err := p.Stocks.Commit(ctx, in.OrderID); err != nil {
		return wrap("commit reservation", err)
	}
	return nil
}

func checkoutCart(ctx context.Context, p Participants, in Input, _ *Output) error {
	if _, err := p.Carts.Checkout(ctx, in.CartID, in.OrderID); err != nil {
		return wrap("checkout cart", err)
	}
	return nil
}

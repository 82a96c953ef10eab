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

package ordersaga_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kubesaga/kubesaga/internal/ordersaga"
	"github.com/kubesaga/kubesaga/internal/participants"
	"github.com/kubesaga/kubesaga/internal/saga"
	"github.com/kubesaga/kubesaga/services/carts"
)

// cartsService runs the real carts service on a SQLite file behind a real HTTP server.
func cartsService(t *testing.T) (*participants.Carts, *httptest.Server) {
	t.Helper()
	s, err := carts.Open(filepath.Join(t.TempDir(), "carts.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); _ = s.Close() })
	c, err := participants.NewCarts(srv.URL, nil, participants.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

func act(name string) saga.Action {
	def := ordersaga.Definition(saga.Policy{})
	for i, s := range def.Steps {
		if s.Name == name {
			return saga.Action{Type: saga.ActDo, Step: i, Name: name}
		}
	}
	panic(name)
}

// A lock repeated after the process died between giving back a cart of another store and
// recording the refusal must still say store mismatch (not already-compensated).
func TestLockCartOfAnotherStoreSaysSoAgain(t *testing.T) {
	c, _ := cartsService(t)
	ctx := context.Background()
	cart, err := c.Create(ctx, uuid.NewString(), 102, []participants.Line{{ProductID: 1, Quantity: 1, UnitPrice: "1.00"}})
	if err != nil {
		t.Fatal(err)
	}
	p := ordersaga.Participants{Carts: c}
	in := ordersaga.Input{OrderID: uuid.NewString(), CartID: cart.ID, StoreID: 101}
	for attempt := 1; attempt <= 2; attempt++ {
		err := ordersaga.Call(ctx, p, act("LockCart"), in, &ordersaga.Output{})
		if participants.RefusalType(err) != "store-mismatch" || !strings.Contains(err.Error(), "belongs to store 102") {
			t.Fatalf("attempt %d: %v, want a store-mismatch refusal", attempt, err)
		}
	}
	if got, err := c.Get(ctx, cart.ID); err != nil || got.Status != carts.StatusOpen {
		t.Fatalf("cart %+v (%v), want it OPEN", got, err)
	}
}

// Errors name their call once, and checking out a cart that is OPEN says it is not locked
// by this order.
func TestErrorMessages(t *testing.T) {
	c, srv := cartsService(t)
	ctx := context.Background()
	cart, err := c.Create(ctx, uuid.NewString(), 101, []participants.Line{{ProductID: 1, Quantity: 1, UnitPrice: "1.00"}})
	if err != nil {
		t.Fatal(err)
	}
	p := ordersaga.Participants{Carts: c}
	in := ordersaga.Input{OrderID: uuid.NewString(), CartID: cart.ID, StoreID: 101}

	err = ordersaga.Call(ctx, p, act("CheckoutCart"), in, &ordersaga.Output{})
	if !participants.IsRefusal(err) || !strings.Contains(err.Error(), "is not locked by order "+in.OrderID) {
		t.Fatalf("checkout of an OPEN cart: %v", err)
	}
	if n := strings.Count(err.Error(), "checkout cart"); n != 1 {
		t.Fatalf("refusal names its call %d times: %v", n, err)
	}

	srv.Close() // connection refused: a transient error
	err = ordersaga.Call(ctx, p, act("CheckoutCart"), in, &ordersaga.Output{})
	if participants.IsRefusal(err) || strings.Count(err.Error(), "checkout cart") != 1 {
		t.Fatalf("transient error: %v, want it to name its call once", err)
	}
}

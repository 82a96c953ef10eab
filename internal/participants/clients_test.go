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

package participants_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kubesaga/kubesaga/internal/dev/inprocess"
	"github.com/kubesaga/kubesaga/internal/participants"
	"github.com/kubesaga/kubesaga/services/carts"
	"github.com/kubesaga/kubesaga/services/sales"
	"github.com/kubesaga/kubesaga/services/stocks"
)

// The clients are tested against the real services (real handlers, real SQLite files,
// real HTTP): what matters is how they read what the services really answer.

func TestCartsClientLockUnlockAndRefusals(t *testing.T) {
	srv := inprocess.ForTest(t, carts.Name)
	c, err := participants.NewCarts(srv.URL(), nil, participants.Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	order, other := uuid.NewString(), uuid.NewString()
	ctx := participants.WithCorrelationID(context.Background(), order)
	cart, err := c.Create(ctx, uuid.NewString(), 7, []participants.Line{{ProductID: 1, Quantity: 3, UnitPrice: "12.50"}})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	locked, err := c.Lock(ctx, cart.ID, order)
	if err != nil || locked.Status != "LOCKED" || locked.Lines[0].UnitPrice != "12.50" {
		t.Fatalf("lock: %+v %v", locked, err)
	}
	_, err = c.Lock(ctx, cart.ID, other)
	if !participants.IsRefusal(err) || participants.RefusalType(err) != "cart-unavailable" {
		t.Fatalf("lock by another order: want refusal cart-unavailable, got %v", err)
	}
	var r *participants.Refusal
	if !errors.As(err, &r) || r.Status != http.StatusConflict {
		t.Fatalf("refusal status: %+v", r)
	}
	if _, err := c.Lock(ctx, uuid.NewString(), order); participants.RefusalType(err) != "not-found" {
		t.Fatalf("unknown cart: want not-found refusal, got %v", err)
	}
	if err := c.Unlock(ctx, cart.ID, order); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	if _, err := c.Lock(ctx, cart.ID, order); participants.RefusalType(err) != "already-compensated" {
		t.Fatalf("lock after unlock: want already-compensated, got %v", err)
	}
	evs, err := c.Events(ctx, order)
	if err != nil || len(evs) == 0 {
		t.Fatalf("events: %v %v", evs, err)
	}
	for _, e := range evs {
		if e.CorrelationID != order {
			t.Fatalf("event without the correlation id: %+v", e)
		}
	}
}

func TestStocksAndSalesClients(t *testing.T) {
	stSrv, saSrv := inprocess.ForTest(t, stocks.Name), inprocess.ForTest(t, sales.Name)
	st, _ := participants.NewStocks(stSrv.URL(), nil, participants.Options{})
	sa, _ := participants.NewSales(saSrv.URL(), nil, participants.Options{})
	ctx := context.Background()
	if _, err := st.SetStock(ctx, 101, 501, 2); err != nil {
		t.Fatal(err)
	}
	id := uuid.NewString()
	// Prices are stripped: the stocks service accepts only product and quantity.
	if _, err := st.Reserve(ctx, id, 101, []participants.Line{{ProductID: 501, Quantity: 3, UnitPrice: "1.00"}}); participants.RefusalType(err) != "insufficient-stock" {
		t.Fatalf("want insufficient-stock, got %v", err)
	}
	id = uuid.NewString()
	if _, err := st.Reserve(ctx, id, 101, []participants.Line{{ProductID: 501, Quantity: 2, UnitPrice: "1.00"}}); err != nil {
		t.Fatalf("reserve: %v", err)
	}
	if res, err := st.Commit(ctx, id); err != nil || res.Status != "COMMITTED" {
		t.Fatalf("commit: %+v %v", res, err)
	}
	sale, err := sa.Create(ctx, id, 101, id, []participants.Line{{ProductID: 501, Quantity: 2, UnitPrice: "0.10"}})
	if err != nil || sale.Total != "0.20" {
		t.Fatalf("sale: %+v %v", sale, err)
	}
	if list, err := sa.List(ctx, 101, ""); err != nil || len(list) != 1 {
		t.Fatalf("list: %+v %v", list, err)
	}
	if err := sa.Cancel(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got, err := sa.Get(ctx, id); err != nil || got.Status != "CANCELLED" {
		t.Fatalf("after cancel: %+v %v", got, err)
	}
}

func TestTransientFaults(t *testing.T) {
	ctx := context.Background()

	// Connection refused: a port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	c, _ := participants.NewCarts("http://"+addr, nil, participants.Options{Timeout: time.Second})
	if _, err := c.Get(ctx, uuid.NewString()); !participants.IsTransient(err) || participants.IsRefusal(err) {
		t.Fatalf("connection refused: want transient, got %v", err)
	}

	// A service whose database is gone answers 5xx: transient.
	srv := inprocess.ForTest(t, stocks.Name)
	if err := srv.CloseDB(); err != nil {
		t.Fatal(err)
	}
	st, _ := participants.NewStocks(srv.URL(), nil, participants.Options{})
	if _, err := st.Reserve(ctx, uuid.NewString(), 1, []participants.Line{{ProductID: 1, Quantity: 1}}); !participants.IsTransient(err) {
		t.Fatalf("5xx: want transient, got %v", err)
	}

	// No answer within the timeout: transient.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	defer slow.Close()
	sa, _ := participants.NewSales(slow.URL, nil, participants.Options{Timeout: 100 * time.Millisecond})
	if _, err := sa.Get(ctx, uuid.NewString()); !participants.IsTransient(err) {
		t.Fatalf("timeout: want transient, got %v", err)
	}

	// A call whose context the caller cancels (a manager shutting down) is no fault of
	// the participant's: neither transient nor a refusal.
	cctx, cancel := context.WithCancel(ctx)
	sa, _ = participants.NewSales(slow.URL, nil, participants.Options{Timeout: 5 * time.Second})
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	if _, err := sa.Get(cctx, uuid.NewString()); participants.IsTransient(err) || participants.IsRefusal(err) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call: want context.Canceled, neither transient nor refusal, got %v", err)
	}
}

func TestBadBaseURL(t *testing.T) {
	if _, err := participants.NewCarts("carts:8080", nil, participants.Options{}); err == nil {
		t.Fatal("a URL without scheme must be refused")
	}
}

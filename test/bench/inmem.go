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

package main

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/kubesaga/kubesaga/internal/participants"
)

// inmemParticipant serves carts, stocks and sales from memory on one listener, speaking
// our participant protocol (docs/participant-protocol.md) for the routes a saga calls and
// answering at once: with it, a run measures the coordinator's cost alone. A cart holding
// productScarce is refused at ReserveStock (409 insufficient-stock), as with the real
// services. Sales are kept so that a GET of a sale answers what its PUT created.
type inmemParticipant struct {
	url string
	srv *http.Server

	mu    sync.Mutex
	carts map[string]int64 // cart id -> the product of its one line
	sales map[string]participants.Sale
}

func startInmemParticipant() (*inmemParticipant, error) {
	p := &inmemParticipant{carts: map[string]int64{}, sales: map[string]participants.Sale{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p.url = "http://" + ln.Addr().String()
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

func (p *inmemParticipant) close() { _ = p.srv.Close() }

// createCart keeps a cart created through the carts API (POST /api/carts with a chosen
// id), so that the bench seeds these carts as it seeds the real service's.
func (p *inmemParticipant) createCart(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ID      string              `json:"id"`
		StoreID int64               `json:"storeId"`
		Lines   []participants.Line `json:"lines"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.ID == "" || len(in.Lines) != 1 {
		problemAt(w, http.StatusBadRequest, "invalid-request")
		return
	}
	p.mu.Lock()
	p.carts[in.ID] = in.Lines[0].ProductID
	p.mu.Unlock()
	c, _ := p.cart(in.ID, "OPEN", "")
	answer(w, http.StatusCreated, c)
}

func (p *inmemParticipant) cart(id, status, lockedBy string) (participants.Cart, bool) {
	p.mu.Lock()
	product, ok := p.carts[id]
	p.mu.Unlock()
	return participants.Cart{ID: id, StoreID: storeID, Status: status, LockedBy: lockedBy, Total: unitPrice,
		Lines: []participants.Line{{ProductID: product, Quantity: 1, UnitPrice: unitPrice}}}, ok
}

// The kinds of resource the in-memory participant serves, under /api/.
const (
	kindCarts        = "carts"
	kindReservations = "reservations"
	kindSales        = "sales"
)

// inmemRequest is what the saga's calls send: orderId, storeId and lines.
type inmemRequest struct {
	OrderID string              `json:"orderId"`
	StoreID int64               `json:"storeId"`
	Lines   []participants.Line `json:"lines"`
}

func (p *inmemParticipant) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/") // api, kind, [id, [verb]]
	if r.Method == http.MethodPost && len(parts) == 2 && parts[1] == kindCarts {
		p.createCart(w, r)
		return
	}
	if len(parts) < 3 || parts[0] != "api" {
		problemAt(w, http.StatusNotFound, "not-found")
		return
	}
	kind, id, verb := parts[1], parts[2], ""
	if len(parts) > 3 {
		verb = parts[3]
	}
	var body inmemRequest
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil && verb != "commit" {
			problemAt(w, http.StatusBadRequest, "invalid-request")
			return
		}
	}
	switch kind {
	case kindCarts:
		p.serveCart(w, r.Method, id, verb, body)
	case kindReservations:
		serveReservation(w, r.Method, id, verb, body)
	case kindSales:
		p.serveSale(w, r.Method, id, body)
	default:
		problemAt(w, http.StatusNotFound, "not-found")
	}
}

func (p *inmemParticipant) serveCart(w http.ResponseWriter, method, id, verb string, body inmemRequest) {
	status, lockedBy := "", body.OrderID
	switch {
	case method == http.MethodGet && verb == "":
		status, lockedBy = "OPEN", ""
	case method == http.MethodPost && verb == "lock":
		status = "LOCKED"
	case method == http.MethodPost && verb == "checkout":
		status = "CHECKED_OUT"
	case method == http.MethodPost && verb == "unlock":
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		problemAt(w, http.StatusNotFound, "not-found")
		return
	}
	c, ok := p.cart(id, status, lockedBy)
	if !ok {
		problemAt(w, http.StatusNotFound, "not-found")
		return
	}
	answer(w, http.StatusOK, c)
}

func serveReservation(w http.ResponseWriter, method, id, verb string, body inmemRequest) {
	switch {
	case method == http.MethodPut:
		for _, l := range body.Lines {
			if l.ProductID == productScarce {
				problemAt(w, http.StatusConflict, "insufficient-stock")
				return
			}
		}
		answer(w, http.StatusCreated, participants.Reservation{ID: id, StoreID: body.StoreID, Lines: body.Lines, Status: "RESERVED"})
	case method == http.MethodPost && verb == "commit":
		answer(w, http.StatusOK, participants.Reservation{ID: id, StoreID: storeID, Status: "COMMITTED"})
	case method == http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	default:
		problemAt(w, http.StatusNotFound, "not-found")
	}
}

func (p *inmemParticipant) serveSale(w http.ResponseWriter, method, id string, body inmemRequest) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.sales[id]
	switch method {
	case http.MethodPut:
		s = participants.Sale{ID: id, StoreID: body.StoreID, OrderID: body.OrderID, Status: "CREATED", Lines: body.Lines, Total: unitPrice}
		p.sales[id] = s
		answer(w, http.StatusCreated, s)
	case http.MethodGet:
		if !ok {
			problemAt(w, http.StatusNotFound, "not-found")
			return
		}
		answer(w, http.StatusOK, s)
	case http.MethodDelete:
		if ok {
			s.Status = "CANCELLED"
			p.sales[id] = s
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		problemAt(w, http.StatusNotFound, "not-found")
	}
}

func answer(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func problemAt(w http.ResponseWriter, code int, slug string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "https://kubesaga.io/problems/" + slug, "title": slug, "status": code})
}

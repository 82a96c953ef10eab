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

package participants

import (
	"context"
	"net/http"
	"strconv"
)

// Stocks is a client of the stocks service.
type Stocks struct{ base }

// NewStocks returns a stocks client; c may be nil to build one from o.
func NewStocks(baseURL string, c *http.Client, o Options) (*Stocks, error) {
	b, err := newBase(baseURL, c, o)
	return &Stocks{b}, err
}

func stockPath(storeID, productID int64) target {
	return at("/api/stocks/{storeId}/{productId}", strconv.FormatInt(storeID, 10), strconv.FormatInt(productID, 10))
}

// SetStock sets a product's stock level (an administrative call, not a saga step).
func (s *Stocks) SetStock(ctx context.Context, storeID, productID, quantity int64) (Stock, error) {
	var out Stock
	in := struct {
		Quantity int64 `json:"quantity"`
	}{quantity}
	err := s.do(ctx, "set stock", http.MethodPut, stockPath(storeID, productID), in, &out)
	return out, err
}

// GetStock reads a product's stock level.
func (s *Stocks) GetStock(ctx context.Context, storeID, productID int64) (Stock, error) {
	var out Stock
	err := s.do(ctx, "get stock", http.MethodGet, stockPath(storeID, productID), nil, &out)
	return out, err
}

// Reserve reserves the lines' quantities under the caller-chosen id.
func (s *Stocks) Reserve(ctx context.Context, id string, storeID int64, lines []Line) (Reservation, error) {
	var out Reservation
	in := struct {
		StoreID int64  `json:"storeId"`
		Lines   []Line `json:"lines"`
	}{storeID, withoutPrices(lines)}
	err := s.do(ctx, "reserve stock", http.MethodPut, at("/api/reservations/{id}", id), in, &out)
	return out, err
}

// Release deletes the reservation and restores its stock once; it is the undo of Reserve.
func (s *Stocks) Release(ctx context.Context, id string) error {
	return s.do(ctx, "release stock", http.MethodDelete, at("/api/reservations/{id}", id), nil, nil)
}

// Commit makes the reservation final.
func (s *Stocks) Commit(ctx context.Context, id string) (Reservation, error) {
	var out Reservation
	err := s.do(ctx, "commit reservation", http.MethodPost, at("/api/reservations/{id}/commit", id), nil, &out)
	return out, err
}

// GetReservation reads a reservation.
func (s *Stocks) GetReservation(ctx context.Context, id string) (Reservation, error) {
	var out Reservation
	err := s.do(ctx, "get reservation", http.MethodGet, at("/api/reservations/{id}", id), nil, &out)
	return out, err
}

// Events lists the stocks service's business events of one saga.
func (s *Stocks) Events(ctx context.Context, correlationID string) ([]Event, error) {
	return events(ctx, s.base, correlationID)
}

// withoutPrices keeps a reservation body to what the stocks service accepts.
func withoutPrices(lines []Line) []Line {
	out := make([]Line, len(lines))
	for i, l := range lines {
		out[i] = Line{ProductID: l.ProductID, Quantity: l.Quantity}
	}
	return out
}

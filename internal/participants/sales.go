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
	"net/url"
	"strconv"
)

// Sales is a client of the sales service.
type Sales struct{ base }

// NewSales returns a sales client; c may be nil to build one from o.
func NewSales(baseURL string, c *http.Client, o Options) (*Sales, error) {
	b, err := newBase(baseURL, c, o)
	return &Sales{b}, err
}

// Create creates the sale under the caller-chosen id.
func (s *Sales) Create(ctx context.Context, id string, storeID int64, orderID string, lines []Line) (Sale, error) {
	var out Sale
	in := struct {
		StoreID int64  `json:"storeId"`
		OrderID string `json:"orderId"`
		Lines   []Line `json:"lines"`
	}{storeID, orderID, lines}
	err := s.do(ctx, "create sale", http.MethodPut, at("/api/sales/{id}", id), in, &out)
	return out, err
}

// Cancel cancels the sale; it is the undo of Create.
func (s *Sales) Cancel(ctx context.Context, id string) error {
	return s.do(ctx, "cancel sale", http.MethodDelete, at("/api/sales/{id}", id), nil, nil)
}

// Get reads a sale.
func (s *Sales) Get(ctx context.Context, id string) (Sale, error) {
	var out Sale
	err := s.do(ctx, "get sale", http.MethodGet, at("/api/sales/{id}", id), nil, &out)
	return out, err
}

// List lists the sales of a store (storeID > 0) or of an order (orderID non-empty).
func (s *Sales) List(ctx context.Context, storeID int64, orderID string) ([]Sale, error) {
	q := url.Values{}
	if storeID > 0 {
		q.Set("storeId", strconv.FormatInt(storeID, 10))
	}
	if orderID != "" {
		q.Set("orderId", orderID)
	}
	var out struct {
		Items []Sale `json:"items"`
	}
	err := s.do(ctx, "list sales", http.MethodGet, at("/api/sales").withQuery(q.Encode()), nil, &out)
	return out.Items, err
}

// Events lists the sales service's business events of one saga.
func (s *Sales) Events(ctx context.Context, correlationID string) ([]Event, error) {
	return events(ctx, s.base, correlationID)
}

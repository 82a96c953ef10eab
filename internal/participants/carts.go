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
)

// Carts is a client of the carts service.
type Carts struct{ base }

// NewCarts returns a carts client; c may be nil to build one from o.
func NewCarts(baseURL string, c *http.Client, o Options) (*Carts, error) {
	b, err := newBase(baseURL, c, o)
	return &Carts{b}, err
}

type orderRef struct {
	OrderID string `json:"orderId"`
}

// Create creates a cart; id may be empty to let the service choose it.
func (c *Carts) Create(ctx context.Context, id string, storeID int64, lines []Line) (Cart, error) {
	var out Cart
	in := struct {
		ID      string `json:"id,omitempty"`
		StoreID int64  `json:"storeId"`
		Lines   []Line `json:"lines"`
	}{id, storeID, lines}
	err := c.do(ctx, "create cart", http.MethodPost, at("/api/carts"), in, &out)
	return out, err
}

// Get reads a cart.
func (c *Carts) Get(ctx context.Context, id string) (Cart, error) {
	var out Cart
	err := c.do(ctx, "get cart", http.MethodGet, at("/api/carts/{id}", id), nil, &out)
	return out, err
}

// Lock locks the cart for orderID and returns it with its lines and prices.
func (c *Carts) Lock(ctx context.Context, id, orderID string) (Cart, error) {
	var out Cart
	err := c.do(ctx, "lock cart", http.MethodPost, at("/api/carts/{id}/lock", id), orderRef{orderID}, &out)
	return out, err
}

// Unlock reopens the cart if orderID holds it; it is the undo of Lock.
func (c *Carts) Unlock(ctx context.Context, id, orderID string) error {
	return c.do(ctx, "unlock cart", http.MethodPost, at("/api/carts/{id}/unlock", id), orderRef{orderID}, nil)
}

// Checkout marks the cart locked by orderID as checked out.
func (c *Carts) Checkout(ctx context.Context, id, orderID string) (Cart, error) {
	var out Cart
	err := c.do(ctx, "checkout cart", http.MethodPost, at("/api/carts/{id}/checkout", id), orderRef{orderID}, &out)
	return out, err
}

// Events lists the carts service's business events of one saga.
func (c *Carts) Events(ctx context.Context, correlationID string) ([]Event, error) {
	return events(ctx, c.base, correlationID)
}

func events(ctx context.Context, b base, correlationID string) ([]Event, error) {
	var out eventList
	err := b.do(ctx, "list events", http.MethodGet, at("/api/events").withQuery("correlationId="+url.QueryEscape(correlationID)), nil, &out)
	return out.Items, err
}

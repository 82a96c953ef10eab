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
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kubesaga/kubesaga/services/money"
	"github.com/kubesaga/kubesaga/services/orderlines"
)

// querier is what both the read pool and a write transaction offer.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// loadCart reads a cart with its lines and total, and the hash of the request
// that created it.
func loadCart(ctx context.Context, q querier, id string) (Cart, string, bool, error) {
	c := Cart{ID: id, Lines: []orderlines.Line{}}
	var lockedBy sql.NullString
	var hash string
	err := q.QueryRowContext(ctx, `SELECT store_id, status, locked_by, request_hash FROM carts WHERE id = ?`, id).
		Scan(&c.StoreID, &c.Status, &lockedBy, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return Cart{}, "", false, nil
	}
	if err != nil {
		return Cart{}, "", false, fmt.Errorf("load cart %s: %w", id, err)
	}
	c.LockedBy = lockedBy.String
	rows, err := q.QueryContext(ctx, `SELECT product_id, quantity, unit_price_cents FROM cart_lines WHERE cart_id = ? ORDER BY line_no`, id)
	if err != nil {
		return Cart{}, "", false, fmt.Errorf("load lines of cart %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var l orderlines.Line
		var cents int64
		if err := rows.Scan(&l.ProductID, &l.Quantity, &cents); err != nil {
			return Cart{}, "", false, fmt.Errorf("load lines of cart %s: %w", id, err)
		}
		l.Cents = money.Cents(cents)
		l.UnitPrice = l.Cents.String()
		c.Lines = append(c.Lines, l)
	}
	if err := rows.Err(); err != nil {
		return Cart{}, "", false, fmt.Errorf("load lines of cart %s: %w", id, err)
	}
	total, err := orderlines.Total(c.Lines)
	if err != nil {
		return Cart{}, "", false, fmt.Errorf("total of cart %s: %w", id, err)
	}
	c.Total = total.String()
	return c, hash, true, nil
}

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
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// querier is what both the read pool and a write transaction offer.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// loadReservation reads a reservation with its lines.
func loadReservation(ctx context.Context, q querier, id string) (Reservation, bool, error) {
	res := Reservation{ID: id, Lines: []Line{}}
	err := q.QueryRowContext(ctx, `SELECT store_id, status FROM reservations WHERE id = ?`, id).Scan(&res.StoreID, &res.Status)
	if errors.Is(err, sql.ErrNoRows) {
		return Reservation{}, false, nil
	}
	if err != nil {
		return Reservation{}, false, fmt.Errorf("load reservation %s: %w", id, err)
	}
	rows, err := q.QueryContext(ctx, `SELECT product_id, quantity FROM reservation_lines WHERE reservation_id = ? ORDER BY line_no`, id)
	if err != nil {
		return Reservation{}, false, fmt.Errorf("load reservation lines %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var l Line
		if err := rows.Scan(&l.ProductID, &l.Quantity); err != nil {
			return Reservation{}, false, fmt.Errorf("load reservation lines %s: %w", id, err)
		}
		res.Lines = append(res.Lines, l)
	}
	if err := rows.Err(); err != nil {
		return Reservation{}, false, fmt.Errorf("load reservation lines %s: %w", id, err)
	}
	return res, true, nil
}

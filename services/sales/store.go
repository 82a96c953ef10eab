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

package sales

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/kubesaga/kubesaga/services/money"
	"github.com/kubesaga/kubesaga/services/orderlines"
	"github.com/kubesaga/kubesaga/services/storage"
)

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

type filter struct {
	storeID int64
	orderID string
	limit   int
}

const saleColumns = `id, store_id, order_id, status, total_cents, created_at`

func scanSale(row interface{ Scan(...any) error }) (Sale, error) {
	var sale Sale
	var total int64
	var created string
	if err := row.Scan(&sale.ID, &sale.StoreID, &sale.OrderID, &sale.Status, &total, &created); err != nil {
		return Sale{}, err
	}
	sale.Total = money.Cents(total).String()
	var err error
	sale.CreatedAt, err = storage.ParseTime(created)
	return sale, err
}

// loadSale reads one sale with its lines.
func loadSale(ctx context.Context, db *sql.DB, id string) (Sale, bool, error) {
	sale, err := scanSale(db.QueryRowContext(ctx, `SELECT `+saleColumns+` FROM sales WHERE id = ?`, id))
	if isNoRows(err) {
		return Sale{}, false, nil
	}
	if err != nil {
		return Sale{}, false, fmt.Errorf("load sale %s: %w", id, err)
	}
	sales := []Sale{sale}
	if err := loadLines(ctx, db, sales); err != nil {
		return Sale{}, false, err
	}
	return sales[0], true, nil
}

// listSales reads the sales matching f, oldest first, with their lines.
func listSales(ctx context.Context, db *sql.DB, f filter) ([]Sale, error) {
	var where []string
	var args []any
	if f.storeID != 0 {
		where, args = append(where, "store_id = ?"), append(args, f.storeID)
	}
	if f.orderID != "" {
		where, args = append(where, "order_id = ?"), append(args, f.orderID)
	}
	q := `SELECT ` + saleColumns + ` FROM sales`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY created_at, id LIMIT ?`
	rows, err := db.QueryContext(ctx, q, append(args, f.limit)...)
	if err != nil {
		return nil, fmt.Errorf("list sales: %w", err)
	}
	defer rows.Close()
	out := []Sale{}
	for rows.Next() {
		sale, err := scanSale(rows)
		if err != nil {
			return nil, fmt.Errorf("list sales: %w", err)
		}
		out = append(out, sale)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sales: %w", err)
	}
	if err := loadLines(ctx, db, out); err != nil {
		return nil, err
	}
	return out, nil
}

// loadLines fills in the lines of each sale.
func loadLines(ctx context.Context, db *sql.DB, sales []Sale) error {
	for i := range sales {
		rows, err := db.QueryContext(ctx,
			`SELECT product_id, quantity, unit_price_cents FROM sale_lines WHERE sale_id = ? ORDER BY line_no`, sales[i].ID)
		if err != nil {
			return fmt.Errorf("load lines of sale %s: %w", sales[i].ID, err)
		}
		sales[i].Lines = []orderlines.Line{}
		for rows.Next() {
			var l orderlines.Line
			var cents int64
			if err := rows.Scan(&l.ProductID, &l.Quantity, &cents); err != nil {
				rows.Close()
				return fmt.Errorf("load lines of sale %s: %w", sales[i].ID, err)
			}
			l.Cents = money.Cents(cents)
			l.UnitPrice = l.Cents.String()
			sales[i].Lines = append(sales[i].Lines, l)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("load lines of sale %s: %w", sales[i].ID, err)
		}
	}
	return nil
}

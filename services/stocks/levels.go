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
	"database/sql"
	"errors"
	"fmt"
	"net/http"

	"github.com/kubesaga/kubesaga/services/httpapi"
	"github.com/kubesaga/kubesaga/services/storage"
)

// StockLevel is the body of the stock level endpoints. OnHand is what PUT sets (the units
// in the store); Quantity is what a reservation can take: OnHand minus the units that
// reservations hold and have not committed yet.
type StockLevel struct {
	StoreID   int64 `json:"storeId"`
	ProductID int64 `json:"productId"`
	Quantity  int64 `json:"quantity"`
	OnHand    int64 `json:"onHand"`
}

// rowQuerier is what readLevel reads from: a write transaction or a reader.
type rowQuerier interface {
	QueryRow(query string, args ...any) *sql.Row
}

// reader queries the read pool under a request's context.
type reader struct {
	db *sql.DB
	r  *http.Request
}

func (q reader) QueryRow(query string, args ...any) *sql.Row {
	return q.db.QueryRowContext(q.r.Context(), query, args...)
}

// readLevel reads a stock level; found is false when the product has none.
func readLevel(q rowQuerier, storeID, productID int64) (level StockLevel, found bool, err error) {
	level = StockLevel{StoreID: storeID, ProductID: productID}
	var held int64
	err = q.QueryRow(`SELECT quantity, held FROM stock_levels WHERE store_id = ? AND product_id = ?`, storeID, productID).
		Scan(&level.OnHand, &held)
	if errors.Is(err, sql.ErrNoRows) {
		return level, false, nil
	}
	if err != nil {
		return level, false, fmt.Errorf("read stock of product %d in store %d: %w", productID, storeID, err)
	}
	level.Quantity = max(level.OnHand-held, 0) // on hand set below what is held: nothing available
	return level, true, nil
}

func stockPath(r *http.Request) (storeID, productID int64, p *httpapi.Problem) {
	if storeID, p = httpapi.ParseID("storeId", r.PathValue("storeId")); p != nil {
		return 0, 0, p
	}
	productID, p = httpapi.ParseID("productId", r.PathValue("productId"))
	return storeID, productID, p
}

// putStock sets the units on hand. It is an administrative call (seeding, inventory
// counts), not a saga step, so it simply overwrites; what reservations hold is kept, and
// comes out of the new count.
func (s *Service) putStock(w http.ResponseWriter, r *http.Request) {
	storeID, productID, p := stockPath(r)
	if p != nil {
		httpapi.WriteProblem(w, p)
		return
	}
	qty, p := httpapi.ReadRequest(w, r, decodeStockLevel)
	if p != nil {
		httpapi.WriteProblem(w, p)
		return
	}
	var level StockLevel
	err := s.DB.Write(r.Context(), func(tx *storage.Tx) error {
		if _, err := tx.Exec(`INSERT INTO stock_levels (store_id, product_id, quantity, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (store_id, product_id) DO UPDATE SET quantity = excluded.quantity, updated_at = excluded.updated_at`,
			storeID, productID, qty, storage.FormatTime(tx.Now)); err != nil {
			return err
		}
		var err error
		level, _, err = readLevel(tx, storeID, productID)
		return err
	})
	if err != nil {
		httpapi.Internal(w, r, s.Logger, fmt.Errorf("set stock level: %w", err))
		return
	}
	s.Logger.InfoContext(r.Context(), "stock level set", "storeId", storeID, "productId", productID,
		"onHand", qty, "available", level.Quantity)
	_ = httpapi.WriteJSON(w, http.StatusOK, level)
}

func (s *Service) getStock(w http.ResponseWriter, r *http.Request) {
	storeID, productID, p := stockPath(r)
	if p != nil {
		httpapi.WriteProblem(w, p)
		return
	}
	level, found, err := readLevel(reader{s.DB.Reader(), r}, storeID, productID)
	if err != nil {
		httpapi.Internal(w, r, s.Logger, fmt.Errorf("get stock level: %w", err))
		return
	}
	if !found {
		httpapi.WriteProblem(w, httpapi.NotFound(fmt.Sprintf("no stock level for store %d, product %d", storeID, productID)))
		return
	}
	_ = httpapi.WriteJSON(w, http.StatusOK, level)
}

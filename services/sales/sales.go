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
	"fmt"
	"net/http"
	"time"

	"github.com/kubesaga/kubesaga/services/events"
	"github.com/kubesaga/kubesaga/services/httpapi"
	"github.com/kubesaga/kubesaga/services/idempotency"
	"github.com/kubesaga/kubesaga/services/money"
	"github.com/kubesaga/kubesaga/services/orderlines"
	"github.com/kubesaga/kubesaga/services/participant"
	"github.com/kubesaga/kubesaga/services/storage"
)

// Sale statuses.
const (
	StatusCreated   = "CREATED"
	StatusCancelled = "CANCELLED"
)

// Business event actions of this service.
const (
	ActionCreateSale = "CREATE_SALE"
	ActionCancelSale = "CANCEL_SALE"
)

// scopeSale keys idempotency records and tombstones of sales.
const scopeSale = "sale"

// Sale is the body of the sale endpoints.
type Sale struct {
	ID        string            `json:"id"`
	StoreID   int64             `json:"storeId"`
	OrderID   string            `json:"orderId"`
	Status    string            `json:"status"`
	Lines     []orderlines.Line `json:"lines"`
	Total     string            `json:"total"`
	CreatedAt time.Time         `json:"createdAt"`
}

// SaleList is the body of GET /api/sales.
type SaleList struct {
	Items []Sale `json:"items"`
}

// putSale records a sale with the prices it is given (the cart's) and their
// exact total. The sale id is chosen by the caller (the Order UID): a repeat
// returns the first answer, and a sale cancelled before it arrives is refused.
func (s *Service) putSale(w http.ResponseWriter, r *http.Request) {
	id, p := httpapi.PathUUID(r, "id")
	if p != nil {
		httpapi.WriteProblem(w, p)
		return
	}
	spec, p := httpapi.ReadRequest(w, r, decodeSale)
	if p != nil {
		httpapi.WriteProblem(w, p)
		return
	}
	corr, p := httpapi.CorrelationID(r, spec.OrderID)
	if p != nil {
		httpapi.WriteProblem(w, p)
		return
	}
	total, err := orderlines.Total(spec.Lines)
	if err != nil {
		httpapi.Internal(w, r, s.Logger, err) // unreachable within the validated bounds
		return
	}
	hash, err := idempotency.Hash(spec)
	if err != nil {
		httpapi.Internal(w, r, s.Logger, err)
		return
	}
	do := participant.Do{Scope: scopeSale, Key: id, RequestHash: hash,
		Action: ActionCreateSale, Correlation: corr, Undone: "cancelled"}
	answer, err := s.Idempotent(r.Context(), do, func(tx *storage.Tx) (httpapi.Answer, error) {
		return s.createSale(tx, id, corr, spec, total)
	})
	if err != nil {
		httpapi.Internal(w, r, s.Logger, fmt.Errorf("create sale %s: %w", id, err))
		return
	}
	httpapi.WriteAnswer(w, answer)
}

// createSale records a new sale, checked fresh by Idempotent, and answers it.
func (s *Service) createSale(tx *storage.Tx, id, corr string, spec saleSpec, total money.Cents) (httpapi.Answer, error) {
	now := storage.FormatTime(tx.Now)
	if _, err := tx.Exec(`INSERT INTO sales (id, store_id, order_id, status, total_cents, correlation_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, spec.StoreID, spec.OrderID, StatusCreated, int64(total), corr, now, now); err != nil {
		return httpapi.Answer{}, fmt.Errorf("insert sale: %w", err)
	}
	for i, l := range spec.Lines {
		if _, err := tx.Exec(`INSERT INTO sale_lines (sale_id, line_no, product_id, quantity, unit_price_cents) VALUES (?, ?, ?, ?, ?)`,
			id, i, l.ProductID, l.Quantity, int64(l.Cents)); err != nil {
			return httpapi.Answer{}, fmt.Errorf("insert sale line: %w", err)
		}
	}
	if err := s.Events.Append(tx, ActionCreateSale, events.Success, corr,
		fmt.Sprintf("sale of %d lines in store %d, total %s", len(spec.Lines), spec.StoreID, total)); err != nil {
		return httpapi.Answer{}, err
	}
	// createdAt is the stored value read back, so the replayed body and GET agree.
	created, err := storage.ParseTime(now)
	if err != nil {
		return httpapi.Answer{}, err
	}
	return httpapi.JSONAnswer(http.StatusCreated, Sale{ID: id, StoreID: spec.StoreID, OrderID: spec.OrderID,
		Status: StatusCreated, Lines: spec.Lines, Total: total.String(), CreatedAt: created})
}

func (s *Service) getSale(w http.ResponseWriter, r *http.Request) {
	id, p := httpapi.PathUUID(r, "id")
	if p != nil {
		httpapi.WriteProblem(w, p)
		return
	}
	sale, found, err := loadSale(r.Context(), s.DB.Reader(), id)
	if err != nil {
		httpapi.Internal(w, r, s.Logger, err)
		return
	}
	if !found {
		httpapi.WriteProblem(w, httpapi.NotFound("no sale "+id))
		return
	}
	_ = httpapi.WriteJSON(w, http.StatusOK, sale)
}

// listSales serves GET /api/sales?storeId=&orderId=&limit=, oldest first.
func (s *Service) listSales(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var f filter
	var p *httpapi.Problem
	if v := q.Get("storeId"); v != "" {
		if f.storeID, p = httpapi.ParseID("storeId", v); p != nil {
			httpapi.WriteProblem(w, p)
			return
		}
	}
	if v := q.Get("orderId"); v != "" {
		if f.orderID, p = httpapi.ParseUUID("orderId", v); p != nil {
			httpapi.WriteProblem(w, p)
			return
		}
	}
	if f.limit, p = httpapi.QueryLimit(r, 100, 1000); p != nil {
		httpapi.WriteProblem(w, p)
		return
	}
	items, err := listSales(r.Context(), s.DB.Reader(), f)
	if err != nil {
		httpapi.Internal(w, r, s.Logger, err)
		return
	}
	_ = httpapi.WriteJSON(w, http.StatusOK, SaleList{Items: items})
}

// deleteSale cancels a sale (compensation, or deleting an Order with the
// Compensate policy). It always leaves a tombstone, so a PUT arriving late is
// refused instead of recording a sale nobody will cancel.
func (s *Service) deleteSale(w http.ResponseWriter, r *http.Request) {
	id, corr, p := httpapi.PathUUIDAndCorrelation(r, "id")
	if p != nil {
		httpapi.WriteProblem(w, p)
		return
	}
	err := s.DB.Write(r.Context(), func(tx *storage.Tx) error {
		dead, err := idempotency.Tombstoned(tx, scopeSale, id)
		if err != nil {
			return err
		}
		if err := idempotency.Bury(tx, scopeSale, id); err != nil {
			return err
		}
		var status string
		err = tx.QueryRow(`SELECT status FROM sales WHERE id = ?`, id).Scan(&status)
		found := err == nil
		if err != nil && !isNoRows(err) {
			return fmt.Errorf("load sale: %w", err)
		}
		switch {
		case !found && dead, found && status == StatusCancelled:
			return nil // a repeat
		case !found:
			return s.Events.Append(tx, ActionCancelSale, events.Success, corr,
				"no such sale; tombstone left so a late sale is refused")
		}
		if _, err := tx.Exec(`UPDATE sales SET status = ?, updated_at = ? WHERE id = ?`,
			StatusCancelled, storage.FormatTime(tx.Now), id); err != nil {
			return fmt.Errorf("cancel sale: %w", err)
		}
		return s.Events.Append(tx, ActionCancelSale, events.Success, corr, "cancelled")
	})
	if err != nil {
		httpapi.Internal(w, r, s.Logger, fmt.Errorf("cancel sale %s: %w", id, err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

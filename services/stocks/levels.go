package stocks

import (
	"database/sql"
	"errors"
	"fmt"
	"net/http"

	"github.com/kubesaga/kubesaga/services/httpapi"
	"github.com/kubesaga/kubesaga/services/storage"
)

// StockLevel is the body of the stock level endpoints.
type StockLevel struct {
	StoreID   int64 `json:"storeId"`
	ProductID int64 `json:"productId"`
	Quantity  int64 `json:"quantity"`
}

func stockPath(r *http.Request) (storeID, productID int64, p *httpapi.Problem) {
	if storeID, p = httpapi.ParseID("storeId", r.PathValue("storeId")); p != nil {
		return 0, 0, p
	}
	productID, p = httpapi.ParseID("productId", r.PathValue("productId"))
	return storeID, productID, p
}

// putStock sets a stock level. It is an administrative call (seeding, inventory
// counts), not a saga step, so it simply overwrites.
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
	err := s.DB.Write(r.Context(), func(tx *storage.Tx) error {
		_, err := tx.Exec(`INSERT INTO stock_levels (store_id, product_id, quantity, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (store_id, product_id) DO UPDATE SET quantity = excluded.quantity, updated_at = excluded.updated_at`,
			storeID, productID, qty, storage.FormatTime(tx.Now))
		return err
	})
	if err != nil {
		httpapi.Internal(w, r, s.Logger, fmt.Errorf("set stock level: %w", err))
		return
	}
	s.Logger.InfoContext(r.Context(), "stock level set", "store_id", storeID, "product_id", productID, "quantity", qty)
	_ = httpapi.WriteJSON(w, http.StatusOK, StockLevel{StoreID: storeID, ProductID: productID, Quantity: qty})
}

func (s *Service) getStock(w http.ResponseWriter, r *http.Request) {
	storeID, productID, p := stockPath(r)
	if p != nil {
		httpapi.WriteProblem(w, p)
		return
	}
	var qty int64
	err := s.DB.Reader().QueryRowContext(r.Context(), `SELECT quantity FROM stock_levels WHERE store_id = ? AND product_id = ?`,
		storeID, productID).Scan(&qty)
	if errors.Is(err, sql.ErrNoRows) {
		httpapi.WriteProblem(w, httpapi.NotFound(fmt.Sprintf("no stock level for store %d, product %d", storeID, productID)))
		return
	}
	if err != nil {
		httpapi.Internal(w, r, s.Logger, fmt.Errorf("get stock level: %w", err))
		return
	}
	_ = httpapi.WriteJSON(w, http.StatusOK, StockLevel{StoreID: storeID, ProductID: productID, Quantity: qty})
}

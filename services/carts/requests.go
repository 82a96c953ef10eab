package carts

import (
	"github.com/kubesaga/kubesaga/services/httpapi"
	"github.com/kubesaga/kubesaga/services/orderlines"
)

type cartRequest struct {
	ID      *string              `json:"id"`
	StoreID *int64               `json:"storeId"`
	Lines   []orderlines.Request `json:"lines"`
}

// cartSpec is a validated cart; the hash of its content (without the id)
// tells a repeated creation from a conflicting one.
type cartSpec struct {
	ID      string            `json:"-"`
	StoreID int64             `json:"storeId"`
	Lines   []orderlines.Line `json:"lines"`
}

type orderRequest struct {
	OrderID *string `json:"orderId"`
}

// decodeCart validates the body of POST /api/carts. The id is optional: a
// caller that chooses it (seeding, tests) can repeat the call safely.
func decodeCart(body []byte) (cartSpec, *httpapi.Problem) {
	var req cartRequest
	if p := httpapi.DecodeBytes(body, &req); p != nil {
		return cartSpec{}, p
	}
	var spec cartSpec
	var p *httpapi.Problem
	if req.ID != nil {
		if spec.ID, p = httpapi.ParseUUID("id", *req.ID); p != nil {
			return cartSpec{}, p
		}
	}
	if spec.StoreID, p = httpapi.RequireID("storeId", req.StoreID); p != nil {
		return cartSpec{}, p
	}
	if spec.Lines, p = orderlines.Validate(req.Lines); p != nil {
		return cartSpec{}, p
	}
	return spec, nil
}

// decodeOrder validates the {orderId} body of lock, unlock and checkout.
func decodeOrder(body []byte) (string, *httpapi.Problem) {
	var req orderRequest
	if p := httpapi.DecodeBytes(body, &req); p != nil {
		return "", p
	}
	return httpapi.RequireUUID("orderId", req.OrderID)
}

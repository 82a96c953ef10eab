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

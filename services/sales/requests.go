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
	"github.com/kubesaga/kubesaga/services/httpapi"
	"github.com/kubesaga/kubesaga/services/orderlines"
)

type saleRequest struct {
	StoreID *int64               `json:"storeId"`
	OrderID *string              `json:"orderId"`
	Lines   []orderlines.Request `json:"lines"`
}

// saleSpec is a validated sale request; its canonical JSON is what the
// idempotency hash covers.
type saleSpec struct {
	StoreID int64             `json:"storeId"`
	OrderID string            `json:"orderId"`
	Lines   []orderlines.Line `json:"lines"`
}

// decodeSale validates the body of PUT /api/sales/{id}.
func decodeSale(body []byte) (saleSpec, *httpapi.Problem) {
	var req saleRequest
	if p := httpapi.DecodeBytes(body, &req); p != nil {
		return saleSpec{}, p
	}
	var spec saleSpec
	var p *httpapi.Problem
	if spec.StoreID, p = httpapi.RequireID("storeId", req.StoreID); p != nil {
		return saleSpec{}, p
	}
	if spec.OrderID, p = httpapi.RequireUUID("orderId", req.OrderID); p != nil {
		return saleSpec{}, p
	}
	if spec.Lines, p = orderlines.Validate(req.Lines); p != nil {
		return saleSpec{}, p
	}
	return spec, nil
}

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
	"fmt"

	"github.com/kubesaga/kubesaga/services/httpapi"
)

// Pointers tell a missing field from a zero one, so that the 400 can say "is
// required" rather than "must be positive".

type stockLevelRequest struct {
	Quantity *int64 `json:"quantity"`
}

type reservationRequest struct {
	StoreID *int64                   `json:"storeId"`
	Lines   []reservationLineRequest `json:"lines"`
}

type reservationLineRequest struct {
	ProductID *int64 `json:"productId"`
	Quantity  *int64 `json:"quantity"`
}

// reservationSpec is a validated reservation request; its canonical JSON is
// what the idempotency hash covers.
type reservationSpec struct {
	StoreID int64  `json:"storeId"`
	Lines   []Line `json:"lines"`
}

// decodeStockLevel validates the body of PUT /api/stocks/{storeId}/{productId}.
func decodeStockLevel(body []byte) (int64, *httpapi.Problem) {
	var req stockLevelRequest
	if p := httpapi.DecodeBytes(body, &req); p != nil {
		return 0, p
	}
	return httpapi.RequireQuantity("quantity", req.Quantity, 0)
}

// decodeReservation validates the body of PUT /api/reservations/{id}.
func decodeReservation(body []byte) (reservationSpec, *httpapi.Problem) {
	var req reservationRequest
	if p := httpapi.DecodeBytes(body, &req); p != nil {
		return reservationSpec{}, p
	}
	var spec reservationSpec
	var p *httpapi.Problem
	if spec.StoreID, p = httpapi.RequireID("storeId", req.StoreID); p != nil {
		return reservationSpec{}, p
	}
	if len(req.Lines) == 0 || len(req.Lines) > httpapi.MaxLines {
		return reservationSpec{}, httpapi.Invalid("lines", fmt.Sprintf("is required and must have between 1 and %d lines", httpapi.MaxLines))
	}
	seen := make(map[int64]bool, len(req.Lines))
	spec.Lines = make([]Line, len(req.Lines))
	for i, l := range req.Lines {
		field := fmt.Sprintf("lines[%d]", i)
		if spec.Lines[i].ProductID, p = httpapi.RequireID(field+".productId", l.ProductID); p != nil {
			return reservationSpec{}, p
		}
		// One line per product keeps "which product is short" unambiguous.
		if seen[spec.Lines[i].ProductID] {
			return reservationSpec{}, httpapi.Invalid(field+".productId", "duplicates an earlier line; use one line per product")
		}
		seen[spec.Lines[i].ProductID] = true
		if spec.Lines[i].Quantity, p = httpapi.RequireQuantity(field+".quantity", l.Quantity, 1); p != nil {
			return reservationSpec{}, p
		}
	}
	return spec, nil
}

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
	"net/http"
	"testing"

	"github.com/kubesaga/kubesaga/services/httpapi"
	"github.com/kubesaga/kubesaga/services/money"
)

func FuzzDecodeCart(f *testing.F) {
	for _, s := range []string{
		`{"storeId":101,"lines":[{"productId":501,"quantity":3,"unitPrice":"12.50"}]}`,
		`{"id":"0b7a9c52-3d1e-4f6a-8b2c-9d0e1f2a3b4c","storeId":1,"lines":[{"productId":1,"quantity":1,"unitPrice":"0.00"}]}`,
		`{"id":"","storeId":1,"lines":[{"productId":1,"quantity":1,"unitPrice":"0.00"}]}`,
		`{"storeId":1,"lines":[{"productId":1,"quantity":1,"unitPrice":"00.10"}]}`,
		`{"storeId":1,"lines":[{"productId":1,"quantity":1,"unitPrice":"1.00"},{"productId":1,"quantity":1,"unitPrice":"1.00"}]}`,
		`{"storeId":-1}`, `{}`, `{"lines":{}}`, `{"storeId":1,"lines":[null]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		spec, p := decodeCart(body)
		if p != nil {
			if p.Status != http.StatusBadRequest || p.Field == "" {
				t.Fatalf("refusal %+v", p)
			}
			return
		}
		if spec.StoreID <= 0 || len(spec.Lines) == 0 || (spec.ID != "" && len(spec.ID) != 36) {
			t.Fatalf("accepted %+v", spec)
		}
		for _, l := range spec.Lines {
			if l.ProductID <= 0 || l.Quantity <= 0 || l.Quantity > httpapi.MaxQuantity || l.Cents < 0 || l.Cents > money.MaxPrice {
				t.Fatalf("accepted line %+v", l)
			}
		}
	})
}

func FuzzDecodeOrder(f *testing.F) {
	for _, s := range []string{
		`{"orderId":"0b7a9c52-3d1e-4f6a-8b2c-9d0e1f2a3b4c"}`, `{"orderId":"0B7A9C52-3D1E-4F6A-8B2C-9D0E1F2A3B4C"}`,
		`{"orderId":"0b7a9c523d1e4f6a8b2c9d0e1f2a3b4c"}`, `{"orderId":null}`, `{"orderId":""}`, `{}`, `{"orderId":"x","y":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		id, p := decodeOrder(body)
		if p != nil {
			if p.Status != http.StatusBadRequest || p.Field == "" {
				t.Fatalf("refusal %+v", p)
			}
			return
		}
		if id2, p := httpapi.ParseUUID("orderId", id); p != nil || id2 != id {
			t.Fatalf("accepted non-canonical id %q", id)
		}
	})
}

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
	"net/http"
	"testing"

	"github.com/kubesaga/kubesaga/services/httpapi"
	"github.com/kubesaga/kubesaga/services/money"
	"github.com/kubesaga/kubesaga/services/orderlines"
)

// FuzzDecodeSale: never a panic; refusals are 400s naming a field; accepted
// sales are in bounds and their total is computable.
func FuzzDecodeSale(f *testing.F) {
	for _, s := range []string{
		`{"storeId":101,"orderId":"0b7a9c52-3d1e-4f6a-8b2c-9d0e1f2a3b4c","lines":[{"productId":501,"quantity":3,"unitPrice":"12.50"}]}`,
		`{"storeId":101,"orderId":"0B7A9C52-3D1E-4F6A-8B2C-9D0E1F2A3B4C","lines":[{"productId":501,"quantity":3,"unitPrice":"1000000.00"}]}`,
		`{"storeId":101,"orderId":"urn:uuid:0b7a9c52-3d1e-4f6a-8b2c-9d0e1f2a3b4c","lines":[]}`,
		`{"storeId":1,"orderId":"x","lines":[{"productId":1,"quantity":1,"unitPrice":12.5}]}`,
		`{"lines":[{"unitPrice":"1e9"}]}`, `{}`, `null`, `{"a":1}`, `{"storeId":1}{"storeId":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		spec, p := decodeSale(body)
		if p != nil {
			if p.Status != http.StatusBadRequest || p.Field == "" {
				t.Fatalf("refusal %+v", p)
			}
			return
		}
		if spec.StoreID <= 0 || len(spec.OrderID) != 36 || len(spec.Lines) == 0 {
			t.Fatalf("accepted %+v", spec)
		}
		for _, l := range spec.Lines {
			if l.Quantity <= 0 || l.Quantity > httpapi.MaxQuantity || l.Cents < 0 || l.Cents > money.MaxPrice || l.Cents.String() != l.UnitPrice {
				t.Fatalf("accepted line %+v", l)
			}
		}
		if _, err := orderlines.Total(spec.Lines); err != nil {
			t.Fatalf("total of accepted sale: %v", err)
		}
	})
}

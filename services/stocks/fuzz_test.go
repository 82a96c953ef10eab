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
	"net/http"
	"testing"

	"github.com/kubesaga/kubesaga/services/httpapi"
)

// FuzzDecodeReservation: the decoder never panics, every refusal is a 400 that
// names a field, and every accepted request is within bounds.
func FuzzDecodeReservation(f *testing.F) {
	for _, s := range []string{
		`{"storeId":101,"lines":[{"productId":501,"quantity":3}]}`,
		`{"storeId":101,"lines":[{"productId":501,"quantity":3},{"productId":501,"quantity":1}]}`,
		`{"storeId":0,"lines":[]}`, `{"storeId":1e3}`, `{"storeId":1,"lines":null}`, `{}`, `[]`, `null`, ``,
		`{"storeId":1,"lines":[{"productId":1,"quantity":1}]}x`, `{"storeId":1,"x":1}`,
		`{"storeId":9223372036854775808,"lines":[{"productId":1,"quantity":1}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		spec, p := decodeReservation(body)
		if p != nil {
			if p.Status != http.StatusBadRequest || p.Field == "" || p.Slug() != httpapi.SlugInvalidRequest {
				t.Fatalf("refusal %+v", p)
			}
			return
		}
		if spec.StoreID <= 0 || len(spec.Lines) == 0 || len(spec.Lines) > httpapi.MaxLines {
			t.Fatalf("accepted %+v", spec)
		}
		for _, l := range spec.Lines {
			if l.ProductID <= 0 || l.Quantity <= 0 || l.Quantity > httpapi.MaxQuantity {
				t.Fatalf("accepted line %+v", l)
			}
		}
	})
}

func FuzzDecodeStockLevel(f *testing.F) {
	for _, s := range []string{`{"quantity":0}`, `{"quantity":15}`, `{"quantity":-1}`, `{"quantity":1.0}`, `{"quantity":"1"}`, `{}`, `{"quantity":1}{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		q, p := decodeStockLevel(body)
		if p != nil {
			if p.Status != http.StatusBadRequest || p.Field == "" {
				t.Fatalf("refusal %+v", p)
			}
			return
		}
		if q < 0 || q > httpapi.MaxQuantity {
			t.Fatalf("accepted %d", q)
		}
	})
}

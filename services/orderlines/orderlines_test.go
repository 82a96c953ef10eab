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

package orderlines

import (
	"testing"

	"github.com/kubesaga/kubesaga/services/httpapi"
	"github.com/kubesaga/kubesaga/services/money"
)

func ptr[T any](v T) *T { return &v }

func TestValidateAndTotal(t *testing.T) {
	ls, p := Validate([]Request{
		{ProductID: ptr[int64](501), Quantity: ptr[int64](3), UnitPrice: ptr("12.50")},
		{ProductID: ptr[int64](502), Quantity: ptr[int64](1), UnitPrice: ptr("0.10")},
	})
	if p != nil {
		t.Fatal(p)
	}
	total, err := Total(ls)
	if err != nil || total != 3760 || total.String() != "37.60" {
		t.Fatalf("total = %v, %v", total, err)
	}
	// 0.10 × 3 in floats is 0.30000000000000004; in cents it is exact.
	ls, _ = Validate([]Request{{ProductID: ptr[int64](1), Quantity: ptr[int64](3), UnitPrice: ptr("0.10")}})
	if total, _ := Total(ls); total.String() != "0.30" {
		t.Fatalf("total = %s", total)
	}
	// The largest allowed order stays exact.
	big := make([]Request, httpapi.MaxLines)
	for i := range big {
		big[i] = Request{ProductID: ptr(int64(i + 1)), Quantity: ptr[int64](httpapi.MaxQuantity), UnitPrice: ptr(money.MaxPrice.String())}
	}
	ls, p = Validate(big)
	if p != nil {
		t.Fatal(p)
	}
	if total, err := Total(ls); err != nil || total != money.MaxPrice*httpapi.MaxQuantity*httpapi.MaxLines {
		t.Fatalf("max total = %v, %v", total, err)
	}
}

func TestValidateNamesTheField(t *testing.T) {
	ok := func() Request {
		return Request{ProductID: ptr[int64](1), Quantity: ptr[int64](1), UnitPrice: ptr("1.00")}
	}
	cases := map[string][]Request{
		"lines":              nil,
		"lines[0].productId": {{Quantity: ptr[int64](1), UnitPrice: ptr("1.00")}},
		"lines[1].productId": {ok(), ok()},
		"lines[0].quantity":  {{ProductID: ptr[int64](1), Quantity: ptr[int64](0), UnitPrice: ptr("1.00")}},
		"lines[0].unitPrice": {{ProductID: ptr[int64](1), Quantity: ptr[int64](1), UnitPrice: ptr("1.5")}},
	}
	for field, reqs := range cases {
		if _, p := Validate(reqs); p == nil || p.Field != field || p.Status != 400 {
			t.Errorf("%s: problem = %+v", field, p)
		}
	}
	if _, p := Validate([]Request{{ProductID: ptr[int64](1), Quantity: ptr[int64](1)}}); p == nil || p.Field != "lines[0].unitPrice" {
		t.Errorf("missing price: %+v", p)
	}
}

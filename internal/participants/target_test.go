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

package participants

import "testing"

func TestAtFillsTheRoute(t *testing.T) {
	cases := []struct {
		got        target
		route, out string
	}{
		{at("/api/carts"), "/api/carts", "/api/carts"},
		{at("/api/carts/{id}/lock", "c 1/2"), "/api/carts/{id}/lock", "/api/carts/c%201%2F2/lock"},
		{at("/api/stocks/{storeId}/{productId}", "101", "501"), "/api/stocks/{storeId}/{productId}", "/api/stocks/101/501"},
		{at("/api/sales").withQuery("orderId=x"), "/api/sales", "/api/sales?orderId=x"},
		{at("/api/sales").withQuery(""), "/api/sales", "/api/sales"},
	}
	for _, c := range cases {
		if c.got.route != c.route || c.got.path != c.out {
			t.Errorf("got %+v, want route %q path %q", c.got, c.route, c.out)
		}
	}
}

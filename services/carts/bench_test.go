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
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	st "github.com/kubesaga/kubesaga/services/internal/servicetest"
)

// BenchmarkLockCart measures the saga's first call through the real handler on
// a real SQLite file (no network): one new cart locked per iteration.
func BenchmarkLockCart(b *testing.B) {
	h := st.Handler(b, Open, "carts.db")
	carts := make([]string, b.N)
	for i := range carts {
		carts[i] = uuid.NewString()
		body := `{"id":"` + carts[i] + `","storeId":101,"lines":[{"productId":501,"quantity":3,"unitPrice":"12.50"}]}`
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/carts", strings.NewReader(body)))
		if rec.Code != http.StatusCreated {
			b.Fatalf("create: %d %s", rec.Code, rec.Body)
		}
	}
	order := `{"orderId":"` + uuid.NewString() + `"}`
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/carts/"+carts[i]+"/lock", strings.NewReader(order)))
		if rec.Code != http.StatusOK {
			b.Fatalf("lock: %d %s", rec.Code, rec.Body)
		}
	}
}

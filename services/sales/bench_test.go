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
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	st "github.com/kubesaga/kubesaga/services/internal/servicetest"
)

// BenchmarkPutSale measures sale creation through the real handler on a real
// SQLite file (no network), one new sale per iteration.
func BenchmarkPutSale(b *testing.B) {
	h := st.Handler(b, Open, "sales.db")
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body := `{"storeId":101,"orderId":"` + ids[i] + `","lines":[{"productId":501,"quantity":3,"unitPrice":"12.50"},{"productId":502,"quantity":1,"unitPrice":"0.99"}]}`
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("PUT", "/api/sales/"+ids[i], strings.NewReader(body)))
		if rec.Code != http.StatusCreated {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

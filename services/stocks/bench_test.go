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
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	st "github.com/kubesaga/kubesaga/services/internal/servicetest"
)

// BenchmarkPutReservation measures the saga's hot call through the real handler
// and a real SQLite file (no network), one new reservation per iteration.
func BenchmarkPutReservation(b *testing.B) {
	h := st.Handler(b, Open, "stocks.db")
	put := httptest.NewRequest("PUT", "/api/stocks/1/1", strings.NewReader(`{"quantity":1000000}`))
	h.ServeHTTP(httptest.NewRecorder(), put)
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("PUT", "/api/reservations/"+ids[i], strings.NewReader(`{"storeId":1,"lines":[{"productId":1,"quantity":1}]}`))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated && rec.Code != http.StatusConflict {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

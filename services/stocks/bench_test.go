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

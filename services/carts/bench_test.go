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

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

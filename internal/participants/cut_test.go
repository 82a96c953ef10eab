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

package participants_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kubesaga/kubesaga/internal/participants"
)

// A participant's problem detail reaches the operator cut to about 1 KiB and marked so,
// for refusals and transient errors alike, whatever its size.
func TestLongProblemDetailIsCut(t *testing.T) {
	for _, status := range []int{http.StatusConflict, http.StatusServiceUnavailable} {
		detail := strings.Repeat("é", 50<<10) // 100 KiB, two bytes a rune
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": "t", "status": status, "detail": detail})
		}))
		c, err := participants.NewSales(srv.URL, nil, participants.Options{Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		err = c.Cancel(context.Background(), "0b7a9c52-3d1e-4f6a-8b2c-9d0e1f2a3b4c")
		srv.Close()
		msg := err.Error()
		if len(msg) > participants.MaxText+200 || !strings.Contains(msg, "[cut: 102400 bytes in all]") || !utf8.ValidString(msg) {
			t.Fatalf("%d: %d bytes: %.200s…", status, len(msg), msg)
		}
	}
	if participants.Cut("short") != "short" {
		t.Fatal("a short text is kept as is")
	}
}

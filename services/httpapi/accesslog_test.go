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

package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAccessLogOneJSONLinePerRequest(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h, err := NewHandler([]Route{
		{Pattern: "PUT /api/things/{id}", Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusCreated)
		})},
		{Pattern: "GET /healthz", Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})},
	}, NewMetrics("things"), logger)
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path, corr string) {
		req := httptest.NewRequest(method, path, nil)
		if corr != "" {
			req.Header.Set(HeaderCorrelationID, corr)
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	do(http.MethodPut, "/api/things/42", "order-uid-1")
	do(http.MethodGet, "/no/such/path", "")
	do(http.MethodGet, "/healthz", "") // Debug: not at Info

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 access log lines at Info, got %d:\n%s", len(lines), buf.String())
	}
	var first, second map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatalf("not JSON: %s", lines[0])
	}
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatalf("not JSON: %s", lines[1])
	}
	if first["msg"] != "request" || first["method"] != "PUT" || first["route"] != "PUT /api/things/{id}" ||
		first["status"] != float64(201) || first["correlationId"] != "order-uid-1" {
		t.Errorf("access log line: %v", first)
	}
	if d, ok := first["durationSeconds"].(float64); !ok || d < 0 {
		t.Errorf("durationSeconds: %v", first["durationSeconds"])
	}
	if strings.Contains(lines[0], "/api/things/42") {
		t.Errorf("the raw path leaked into the line: %s", lines[0])
	}
	if second["route"] != "unmatched" || second["status"] != float64(404) {
		t.Errorf("unmatched request line: %v", second)
	}
}

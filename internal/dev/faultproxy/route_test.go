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

package faultproxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A route fault answers its status for the matching route only, for its duration, and
// lets every other request through on the same keep-alive connection.
func TestFailRoute(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, r.Method+" "+r.URL.Path)
	}))
	defer srv.Close()
	p, err := Start("127.0.0.1:0", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Close() }()
	call := func(method, path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, p.URL()+path, strings.NewReader(`{"a":1}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	p.FailRoute(http.MethodPost, "/api/reservations/*/commit", http.StatusServiceUnavailable, 500*time.Millisecond)
	if code, body := call(http.MethodPost, "/api/reservations/abc/commit"); code != 503 || !strings.Contains(body, "injected fault") {
		t.Fatalf("commit: %d %s", code, body)
	}
	if code, body := call(http.MethodPut, "/api/reservations/abc"); code != 200 || body != "PUT /api/reservations/abc" {
		t.Fatalf("another route: %d %s", code, body)
	}
	if code, _ := call(http.MethodGet, "/api/reservations/abc/commit"); code != 200 {
		t.Fatalf("another method: %d", code)
	}
	if hits.Load() != 2 {
		t.Fatalf("the failing route reached the upstream: %d hits", hits.Load())
	}
	time.Sleep(600 * time.Millisecond) // the fault's own duration, not a timing assertion
	if code, body := call(http.MethodPost, "/api/reservations/abc/commit"); code != 200 || body != "POST /api/reservations/abc/commit" {
		t.Fatalf("after the fault: %d %s", code, body)
	}
}

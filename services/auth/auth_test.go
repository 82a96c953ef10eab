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

package auth

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kubesaga/kubesaga/services/httpapi"
)

const (
	tokA = "a3f1c9e07b2d4e58a3f1c9e07b2d4e58"
	tokB = "0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time       { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration)  { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func write(t testing.TB, p, s string) { t.Helper(); must(t, os.WriteFile(p, []byte(s), 0o600)) }
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
func bearer(tok string) []string { return []string{"Bearer " + tok} }
func req(method, path string, auth ...string) *http.Request {
	r := httptest.NewRequest(method, path, strings.NewReader(`{"x":1}`))
	for _, a := range auth {
		r.Header.Add("Authorization", a)
	}
	return r
}

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func newGuard(t testing.TB, content string) (*Guard, string, *clock, *prometheus.Registry, *syncBuffer) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "token")
	write(t, p, content)
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	reg := prometheus.NewRegistry()
	logs := &syncBuffer{}
	g, err := New(Options{TokenFile: p, Service: "test", Registerer: reg, Now: c.Now,
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	must(t, err)
	return g, p, c, reg, logs
}

func TestCheck(t *testing.T) {
	g, _, _, _, _ := newGuard(t, tokA+"\n")
	for _, tc := range []struct {
		name   string
		header []string
		want   string
	}{
		{"valid", bearer(tokA), ""},
		{"scheme is case-insensitive", []string{"bearer " + tokA}, ""},
		{"extra spaces", []string{"Bearer   " + tokA + "  "}, ""},
		{"missing", nil, ReasonMissing},
		{"empty", []string{""}, ReasonMalformed},
		{"basic", []string{"Basic " + tokA}, ReasonMalformed},
		{"scheme only", []string{"Bearer"}, ReasonMalformed},
		{"two headers", []string{"Bearer " + tokA, "Bearer " + tokA}, ReasonMalformed},
		{"wrong", bearer(tokB), ReasonInvalid},
		{"prefix", bearer(tokA[:10]), ReasonInvalid},
		{"longer", bearer(tokA + "x"), ReasonInvalid},
		{"file line with newline", bearer(tokA + "\n"), ""}, // header values are trimmed by net/http too
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := g.Check(req("POST", "/api/x", tc.header...)); got != tc.want {
				t.Fatalf("Check = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTokenFileFormats(t *testing.T) {
	g, _, _, _, _ := newGuard(t, "\r\n  "+tokA+"  \r\n\n"+tokB+"\r\n")
	for _, tok := range []string{tokA, tokB} {
		if got := g.Check(req("PUT", "/api/x", bearer(tok)...)); got != "" {
			t.Fatalf("token %d: %q", len(tok), got)
		}
	}
	dir := t.TempDir()
	for name, content := range map[string]string{
		"empty": "", "blank": " \n\t\n", "space inside": "abc def\n", "control": "abc\x00def",
		"too big": strings.Repeat("a", MaxTokenFileBytes+1),
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		write(t, p, content)
		if _, err := New(Options{TokenFile: p}); err == nil {
			t.Errorf("%s: New accepted the file", name)
		} else if c := strings.TrimSpace(content); c != "" && strings.Contains(err.Error(), c) {
			t.Errorf("%s: error %q repeats the file content", name, err)
		}
	}
	if _, err := New(Options{TokenFile: filepath.Join(dir, "absent")}); err == nil {
		t.Error("New accepted a missing file")
	}
	if _, err := New(Options{}); err == nil {
		t.Error("New accepted an empty path")
	}
}

func TestRotationWithoutRestart(t *testing.T) {
	g, p, c, _, logs := newGuard(t, tokA)
	write(t, p, tokB)
	if got := g.Check(req("POST", "/api/x", bearer(tokA)...)); got != "" {
		t.Fatalf("old token refused before the check interval: %q", got)
	}
	c.Add(time.Second)
	if got := g.Check(req("POST", "/api/x", bearer(tokA)...)); got != ReasonInvalid {
		t.Fatalf("old token after rotation: %q, want invalid", got)
	}
	if got := g.Check(req("POST", "/api/x", bearer(tokB)...)); got != "" {
		t.Fatalf("new token after rotation: %q", got)
	}

	// A file that disappears or is emptied keeps the last tokens in force.
	must(t, os.Remove(p))
	c.Add(time.Second)
	if got := g.Check(req("POST", "/api/x", bearer(tokB)...)); got != "" {
		t.Fatalf("token refused while the file is missing: %q", got)
	}
	write(t, p, "\n")
	c.Add(time.Second)
	if got := g.Check(req("POST", "/api/x", bearer(tokB)...)); got != "" {
		t.Fatalf("token refused while the file is empty: %q", got)
	}

	// Two-phase rotation: both accepted, then only the new one.
	write(t, p, tokA+"\n"+tokB+"\n")
	c.Add(time.Second)
	for _, tok := range []string{tokA, tokB} {
		if got := g.Check(req("POST", "/api/x", bearer(tok)...)); got != "" {
			t.Fatalf("both tokens listed, one refused: %q", got)
		}
	}
	if s := logs.String(); strings.Contains(s, tokA) || strings.Contains(s, tokB) {
		t.Fatalf("a token appears in the logs:\n%s", s)
	}
}

func TestPublic(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		want         bool
	}{
		{"GET", "/healthz", true}, {"HEAD", "/readyz", true}, {"GET", "/metrics", true},
		{"POST", "/healthz", false}, {"GET", "/healthz/", false}, {"GET", "/api/events", false},
		{"GET", "/api/carts/x", false}, {"GET", "/", false}, {"OPTIONS", "/metrics", false},
		{"GET", "/api/../healthz", false}, {"GET", "/nope", false},
	} {
		r := httptest.NewRequest(tc.method, "http://x"+tc.path, nil)
		r.URL.Path = tc.path // keep the raw path; ServeMux would clean it later
		if got := Public(r); got != tc.want {
			t.Errorf("Public(%s %s) = %v, want %v", tc.method, tc.path, got, tc.want)
		}
	}
}

func TestWrap(t *testing.T) {
	g, _, c, reg, logs := newGuard(t, tokA)
	called := 0
	h := g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called++
		w.WriteHeader(http.StatusNoContent)
	}))
	serve := func(r *http.Request) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for i, r := range []*http.Request{
		req("POST", "/api/carts"), req("DELETE", "/api/sales/x", bearer(tokB)...), req("GET", "/api/events", "Basic "+tokA),
	} {
		c.Add(2 * time.Second) // each failure may be logged
		w := serve(r)
		if w.Code != http.StatusUnauthorized || called != 0 {
			t.Fatalf("request %d: status %d, handler called %d times", i, w.Code, called)
		}
		if ct := w.Header().Get("Content-Type"); ct != httpapi.ContentTypeProblem {
			t.Fatalf("Content-Type %q", ct)
		}
		if ch := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(ch, "Bearer ") {
			t.Fatalf("WWW-Authenticate %q", ch)
		}
		var p httpapi.Problem
		must(t, json.Unmarshal(w.Body.Bytes(), &p))
		if p.Slug() != httpapi.SlugUnauthorized || p.Status != 401 || p.Detail == "" {
			t.Fatalf("problem %+v", p)
		}
		if strings.Contains(w.Body.String(), tokA) || strings.Contains(w.Body.String(), tokB) {
			t.Fatalf("the answer repeats a token: %s", w.Body)
		}
	}
	if w := serve(req("POST", "/api/carts", bearer(tokA)...)); w.Code != http.StatusNoContent || called != 1 {
		t.Fatalf("valid token: %d, called %d", w.Code, called)
	}
	if w := serve(req("GET", "/readyz")); w.Code != http.StatusNoContent || called != 2 {
		t.Fatalf("probe without token: %d", w.Code)
	}
	mfs, err := reg.Gather()
	must(t, err)
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "kubesaga_auth_failures_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" {
					got[l.GetValue()] = m.GetCounter().GetValue()
				}
			}
		}
	}
	if want := map[string]float64{ReasonMissing: 1, ReasonInvalid: 1, ReasonMalformed: 1}; !maps.Equal(got, want) {
		t.Errorf("kubesaga_auth_failures_total = %v, want %v", got, want)
	}
	s := logs.String()
	if !strings.Contains(s, "request refused") {
		t.Fatalf("failures not logged:\n%s", s)
	}
	if strings.Contains(s, tokA) || strings.Contains(s, tokB) {
		t.Fatalf("a token appears in the logs:\n%s", s)
	}
}

func TestFailureLogIsRateLimited(t *testing.T) {
	g, _, c, _, logs := newGuard(t, tokA)
	h := g.Wrap(http.NotFoundHandler())
	for range 100 {
		h.ServeHTTP(httptest.NewRecorder(), req("POST", "/api/x"))
	}
	c.Add(time.Second)
	h.ServeHTTP(httptest.NewRecorder(), req("POST", "/api/x"))
	if n := strings.Count(logs.String(), "request refused"); n != 2 {
		t.Fatalf("%d failure lines for 101 failures over one second, want 2:\n%s", n, logs)
	}
	if !strings.Contains(logs.String(), `"suppressedSinceLast":99`) {
		t.Fatalf("suppressed count missing:\n%s", logs)
	}
}

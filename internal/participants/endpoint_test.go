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

package participants

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestJoinPathKeepsTheHost(t *testing.T) {
	ok := map[string]string{
		"/api/carts/1/lock":       "http://carts:8080/api/carts/1/lock",
		"/api/events?x=1&y=a/../": "http://carts:8080/api/events?x=1&y=a/../",
		"/a%20b":                  "http://carts:8080/a%20b",
	}
	for path, want := range ok {
		got, err := JoinPath("http://carts:8080", path)
		if err != nil || got != want {
			t.Errorf("JoinPath(%q) = %q, %v; want %q", path, got, err, want)
		}
	}
	got, err := JoinPath("https://rooms.example/v1/", "/book")
	if err != nil || got != "https://rooms.example/v1/book" {
		t.Errorf("with a base path: %q, %v", got, err)
	}
	for _, path := range []string{
		"", "api", "//evil.example/x", "http://evil.example/", "@evil.example/x", "/..", "/a/../../admin",
		"/%2e%2e/admin", "/a%2fb", "/a#frag", "/a\\b", "/a b", "/x\r\nHost: evil",
	} {
		if got, err := JoinPath("http://carts:8080", path); err == nil {
			t.Errorf("JoinPath(%q) = %q, want an error", path, got)
		}
	}
	if got, err := JoinPath("http://host/v1", "/../v2"); err == nil {
		t.Errorf("climbing above the base path: %q", got)
	}
}

func TestEndpointCallClassifiesAndCarriesHeaders(t *testing.T) {
	var gotAuth, gotCorr, gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotCorr = r.Header.Get("Authorization"), r.Header.Get(CorrelationHeader)
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		switch r.URL.Path {
		case "/ok":
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"id":"x"}`))
		case "/big":
			_, _ = w.Write([]byte(strings.Repeat("a", 100)))
		case "/refuse":
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusConflict)
			_, _ = w.Write([]byte(`{"type":"/problems/no-room","title":"No room","status":409,"detail":"fully booked"}`))
		case "/busy":
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	token := "t1"
	e, err := NewEndpoint(srv.URL, nil, Options{TokenFunc: func() (string, error) { return token, nil }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := WithCorrelationID(context.Background(), "uid-1")

	ans, err := e.Call(ctx, "book", http.MethodPost, "/ok", []byte(`{"a":1}`), 1024)
	if err != nil || ans.Status != 201 || string(ans.Body) != `{"id":"x"}` {
		t.Fatalf("2xx: %+v, %v", ans, err)
	}
	if gotAuth != "Bearer t1" || gotCorr != "uid-1" || gotBody != `{"a":1}` {
		t.Errorf("headers/body: auth %q, correlation %q, body %q", gotAuth, gotCorr, gotBody)
	}
	token = "t2" // rotated: the next call carries it
	if _, err := e.Call(ctx, "book", http.MethodPost, "/ok", nil, 1024); err != nil || gotAuth != "Bearer t2" {
		t.Errorf("rotated token not sent: %q, %v", gotAuth, err)
	}
	ans, err = e.Call(ctx, "book", http.MethodPost, "/refuse", nil, 1024)
	var ref *Refusal
	if !errors.As(err, &ref) || ans.Status != 409 || ref.Type != "no-room" || ref.Detail != "fully booked" {
		t.Errorf("4xx: %+v, %v", ans, err)
	}
	for _, p := range []string{"/busy", "/down"} {
		if ans, err := e.Call(ctx, "book", http.MethodGet, p, nil, 1024); !IsTransient(err) || ans.Status == 0 {
			t.Errorf("%s: want transient with a status, got %+v, %v", p, ans, err)
		}
	}
	if _, err := e.Call(ctx, "book", http.MethodGet, "/big", nil, 10); !IsTransient(err) || !errors.Is(err, ErrOversized) {
		t.Errorf("oversized answer: %v", err)
	}
	gotAuth = "untouched"
	if _, err := e.Call(ctx, "book", http.MethodGet, "//evil.example/x", nil, 10); !IsRefusal(err) || gotAuth != "untouched" {
		t.Errorf("a path leaving the participant must be refused before any call: %v (server saw %q)", err, gotAuth)
	}
}

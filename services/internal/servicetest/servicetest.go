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

// Package servicetest drives a participant service over real HTTP in tests:
// requests, problem assertions, and the OpenAPI-versus-routes check.
package servicetest

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubesaga/kubesaga/services/events"

	"github.com/kubesaga/kubesaga/services/httpapi"
	"github.com/kubesaga/kubesaga/services/httpapi/openapitest"
)

// Client sends requests to a test server.
type Client struct {
	t   testing.TB
	URL string
}

// Start serves h on a real loopback listener until the test ends (or Close).
func Start(t testing.TB, h http.Handler) (*Client, func()) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &Client{t: t, URL: srv.URL}, srv.Close
}

// Service is a participant service as its tests use it.
type Service interface {
	Handler() http.Handler
	Close() error
}

// Open opens a service with open (its package's Open, without a logger) on the
// database file path and serves it; stop stops the server and closes the service.
func Open[S Service](t testing.TB, open func(path string, logger *slog.Logger) (S, error), path string) (s S, c *Client, stop func()) {
	t.Helper()
	s, err := open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, stopServer := Start(t, s.Handler())
	return s, c, func() {
		stopServer()
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}
}

// New serves a service on a new database file (named file, in a temporary
// folder) until the test ends.
func New[S Service](t testing.TB, open func(path string, logger *slog.Logger) (S, error), file string) *Client {
	t.Helper()
	_, c, stop := Open(t, open, filepath.Join(t.TempDir(), file))
	t.Cleanup(stop)
	return c
}

// Handler opens a service on a new database file (named file, in a temporary
// folder) and returns its handler, for benchmarks that call it without a network.
// The service is closed when the test ends.
func Handler[S Service](t testing.TB, open func(path string, logger *slog.Logger) (S, error), file string) http.Handler {
	t.Helper()
	s, err := open(filepath.Join(t.TempDir(), file), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s.Handler()
}

// Response is a read response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Raw is a request body sent as is.
type Raw string

// Do sends a request. body is nil (no body), Raw (sent verbatim) or a value
// encoded as JSON. headers are name, value pairs.
func (c *Client) Do(method, path string, body any, headers ...string) Response {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case Raw:
		rd = strings.NewReader(string(b))
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			c.t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, c.URL+path, rd)
	if err != nil {
		c.t.Fatalf("new request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Expect fails the test unless the status is want; it decodes a JSON body into v (if not nil).
func (r Response) Expect(t testing.TB, want int, v any) Response {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status = %d, want %d; body: %s", r.Status, want, r.Body)
	}
	if v != nil {
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != httpapi.ContentTypeJSON {
			t.Fatalf("Content-Type = %q, want JSON; body: %s", r.Header.Get("Content-Type"), r.Body)
		}
		if err := json.Unmarshal(r.Body, v); err != nil {
			t.Fatalf("decode %s: %v", r.Body, err)
		}
	}
	return r
}

// ExpectProblem fails the test unless r is a problem document with the status
// and slug, whose title and detail are set; it returns the problem.
func (r Response) ExpectProblem(t testing.TB, status int, slug string) httpapi.Problem {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != httpapi.ContentTypeProblem {
		t.Fatalf("Content-Type = %q, want %s; body: %s", ct, httpapi.ContentTypeProblem, r.Body)
	}
	var p httpapi.Problem
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("decode problem %s: %v", r.Body, err)
	}
	if p.Type != httpapi.ProblemBase+slug || p.Status != status || p.Title == "" || p.Detail == "" {
		t.Fatalf("problem = %+v, want type %s%s status %d with title and detail", p, httpapi.ProblemBase, slug, status)
	}
	return p
}

// RepoFile returns the absolute path of a file given relative to the module root.
func RepoFile(t testing.TB, rel string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, rel)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above the test directory")
		}
		dir = parent
	}
}

// CheckOpenAPI compares an OpenAPI document with a service's route table and its
// live handler (see openapitest.Check, which the gateway's test shares).
func CheckOpenAPI(t *testing.T, docFile string, routes []httpapi.Route, client *Client) {
	t.Helper()
	openapitest.Check(t, docFile, routes, func(method, path string) (int, []byte) {
		resp := client.Do(method, path, nil)
		return resp.Status, resp.Body
	})
}

// EventSequence renders business events as "ACTION:OUTCOME ..." for one comparison.
func EventSequence(evs []events.Event) string {
	seq := make([]string, 0, len(evs))
	for _, e := range evs {
		seq = append(seq, e.Action+":"+e.Outcome)
	}
	return strings.Join(seq, " ")
}

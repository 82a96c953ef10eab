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
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/kubesaga/kubesaga/internal/tracing"
)

// Route is one entry of a service's route table. The same table registers the
// ServeMux and is checked against the OpenAPI document in tests, so the two
// cannot drift apart.
type Route struct {
	Pattern string // ServeMux pattern with method, e.g. "PUT /api/reservations/{id}"
	Handler http.HandlerFunc
}

// Method and Path split the pattern.
func (r Route) Method() string { m, _, _ := strings.Cut(r.Pattern, " "); return m }

// Path returns the path part of the pattern.
func (r Route) Path() string { _, p, _ := strings.Cut(r.Pattern, " "); return p }

// NewHandler registers the routes on a fresh ServeMux and wraps it with panic
// recovery, request metrics, an access log line per request, problem documents for
// unmatched requests, and a server span per request when tracing is on.
func NewHandler(routes []Route, metrics *Metrics, logger *slog.Logger) (http.Handler, error) {
	mux := http.NewServeMux()
	for _, rt := range routes {
		if rt.Method() == "" || !strings.HasPrefix(rt.Path(), "/") {
			return nil, fmt.Errorf("route %q: pattern needs a method and a path", rt.Pattern)
		}
		mux.Handle(rt.Pattern, rt.Handler)
	}
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pattern := mux.Handler(r)
		tracing.SetRoute(r, pattern)
		if pattern == "" {
			// The mux's own 404/405 answers are plain text; rewrite them as problems.
			mux.ServeHTTP(&problemWriter{ResponseWriter: w}, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
	h = recoverer(h, logger)
	// Outermost, so that the server span covers the whole request.
	return tracing.Handler(metrics.Instrument(accessLog(h, logger)), "participant"), nil
}

// recoverer turns a panic into a logged 500 instead of a dropped connection.
func recoverer(next http.Handler, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				Internal(w, r, logger, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// problemWriter replaces the body of the mux's plain-text errors with a problem
// document, keeping the status and headers such as Allow.
type problemWriter struct {
	http.ResponseWriter
	wrote       bool
	passThrough bool // other statuses (the mux's path-cleaning redirects) are left alone
}

func (p *problemWriter) WriteHeader(code int) {
	if p.wrote {
		return
	}
	p.wrote = true
	if code != http.StatusNotFound && code != http.StatusMethodNotAllowed {
		p.passThrough = true
		p.ResponseWriter.WriteHeader(code)
		return
	}
	slug, title := SlugNotFound, "Not found"
	if code == http.StatusMethodNotAllowed {
		slug, title = SlugMethodNotAllowed, "Method not allowed"
	}
	h := p.ResponseWriter.Header()
	h.Del("Content-Length")
	WriteProblem(p.ResponseWriter, NewProblem(code, slug, title, "no route serves this method and path"))
}

func (p *problemWriter) Write(b []byte) (int, error) {
	if !p.wrote {
		p.WriteHeader(http.StatusNotFound)
	}
	if p.passThrough {
		return p.ResponseWriter.Write(b)
	}
	return len(b), nil // the plain-text body is dropped on purpose
}

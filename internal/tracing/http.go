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

package tracing

import (
	"context"
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// Handler wraps a participant's HTTP handler with otelhttp: each request continues the
// caller's trace (W3C traceparent) in a server span named after the route pattern that
// matched. Probes and scrapes (/healthz, /readyz, /metrics) are not traced: they would
// start a trace every few seconds. While tracing is off, requests go straight to h.
func Handler(h http.Handler, operation string) http.Handler {
	traced := otelhttp.NewHandler(h, operation,
		otelhttp.WithTracerProvider(currentProvider{}),
		otelhttp.WithPropagators(Propagator),
		otelhttp.WithFilter(func(r *http.Request) bool { return !untraced[r.URL.Path] }))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if enabled.Load() {
			traced.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

var untraced = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// SetRoute names the server span of r after the ServeMux pattern that matched it (e.g.
// "PUT /api/reservations/{id}") and records its path as http.route; otelhttp sees the
// pattern only after the handler ran, too late for samplers and for a span that ends in a panic.
func SetRoute(r *http.Request, pattern string) {
	if !enabled.Load() || pattern == "" {
		return
	}
	span := trace.SpanFromContext(r.Context())
	if !span.IsRecording() {
		return
	}
	span.SetName(pattern)
	path := pattern
	if _, p, ok := strings.Cut(pattern, " "); ok {
		path = p
	}
	span.SetAttributes(semconv.HTTPRoute(path))
}

// currentProvider hands out tracers that start their spans with the global provider of
// the moment: otelhttp takes its tracer once, when the handler is built, and a service's
// handler may be built before tracing is installed (tests install it later).
type currentProvider struct{ embedded.TracerProvider }

func (currentProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return currentTracer{name: name, opts: opts}
}

type currentTracer struct {
	embedded.Tracer
	name string
	opts []trace.TracerOption
}

func (t currentTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	return otel.GetTracerProvider().Tracer(t.name, t.opts...).Start(ctx, name, opts...)
}

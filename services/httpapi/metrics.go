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
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kubesaga/kubesaga/internal/buildinfo"
)

// unmatchedRoute labels requests that matched no route, so that scanners probing
// random paths cannot create one time series per path.
const unmatchedRoute = "unmatched"

// Metrics holds a service's own Prometheus registry. Each Service has its own so
// that several services can live in one process (tests, demos) without
// colliding on the default registry.
type Metrics struct {
	Registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// ServiceLabel names the service on every kubesaga metric of a participant. It is not
// "service": a ServiceMonitor's targets carry the Kubernetes Service's name as "service",
// and Prometheus would rename ours to exported_service.
const ServiceLabel = "service_name"

// NewMetrics creates the registry with Go and process collectors, kubesaga_build_info,
// and the HTTP request metrics, all labelled with service_name=<name>.
func NewMetrics(service string) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildinfo.Collector())
	labels := prometheus.Labels{ServiceLabel: service}
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "kubesaga_http_requests_total",
			Help:        "HTTP requests handled, by route pattern and status code.",
			ConstLabels: labels,
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:        "kubesaga_http_request_duration_seconds",
			Help:        "HTTP request latency, by route pattern.",
			ConstLabels: labels,
			Buckets:     []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// Instrument counts and times every request. The route label is the ServeMux
// pattern that matched (e.g. "PUT /api/reservations/{id}"), never the raw path,
// so that ids never become label values.
func (m *Metrics) Instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = unmatchedRoute
		}
		m.requests.WithLabelValues(route, strconv.Itoa(sw.Status())).Inc()
		m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Status() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

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
	"log/slog"
	"net/http"
	"time"
)

// Access log keys (camelCase, like every kubesaga log key).
const (
	logKeyMethod        = "method"
	logKeyRoute         = "route"
	logKeyStatus        = "status"
	logKeyDuration      = "durationSeconds"
	logKeyCorrelationID = "correlationId"
)

// quietRoutes are polled by kubelet and Prometheus: their lines are Debug, the rest Info.
var quietRoutes = map[string]bool{"GET /healthz": true, "GET /readyz": true, "GET /metrics": true}

// accessLog writes one line per request: method, route pattern (never the raw path, so no
// ids), status, duration and the caller's X-Correlation-ID.
func accessLog(next http.Handler, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := r.Pattern // set by the ServeMux on this request
		if route == "" {
			route = unmatchedRoute
		}
		level := slog.LevelInfo
		if quietRoutes[route] {
			level = slog.LevelDebug
		}
		logger.LogAttrs(r.Context(), level, "request",
			slog.String(logKeyMethod, r.Method),
			slog.String(logKeyRoute, route),
			slog.Int(logKeyStatus, sw.Status()),
			slog.Float64(logKeyDuration, time.Since(start).Seconds()),
			slog.String(logKeyCorrelationID, r.Header.Get(HeaderCorrelationID)))
	})
}

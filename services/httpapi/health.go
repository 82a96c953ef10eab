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
	"context"
	"log/slog"
	"net/http"
	"time"
)

// health is the body of the probe answers.
type health struct {
	Status string `json:"status"`
}

// Healthz answers 200 while the process serves HTTP at all (liveness).
func Healthz(w http.ResponseWriter, _ *http.Request) {
	_ = WriteJSON(w, http.StatusOK, health{Status: "ok"})
}

// Readyz answers 200 when ping succeeds within two seconds, 503 otherwise
// (readiness: a service whose database does not answer should get no traffic).
func Readyz(ping func(context.Context) error, logger *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := ping(ctx); err != nil {
			logger.WarnContext(r.Context(), "readiness check failed", "error", err)
			WriteProblem(w, NewProblem(http.StatusServiceUnavailable, SlugUnavailable, "Not ready", "the database does not answer"))
			return
		}
		_ = WriteJSON(w, http.StatusOK, health{Status: "ready"})
	}
}

// OpsRoutes are the operational routes every service serves besides its API.
func OpsRoutes(ping func(context.Context) error, metrics *Metrics, logger *slog.Logger) []Route {
	return []Route{
		{Pattern: "GET /healthz", Handler: Healthz},
		{Pattern: "GET /readyz", Handler: Readyz(ping, logger)},
		{Pattern: "GET /metrics", Handler: metrics.Handler().ServeHTTP},
	}
}

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

// Package stocks is the reference stock participant: stock levels per store and
// product, and reservations that take stock atomically, idempotently, and give
// it back exactly once.
package stocks

import (
	"embed"
	"log/slog"

	"github.com/kubesaga/kubesaga/services/httpapi"
	"github.com/kubesaga/kubesaga/services/participant"
)

// Name is the service name used in logs, metrics and environment variables.
const Name = "stocks"

//go:embed migrations/*.sql
var migrationFS embed.FS

// Service serves the stocks API on its own SQLite database.
type Service struct {
	*participant.Base
}

// Open creates the database's folder, opens the SQLite file (WAL) and applies
// the embedded migrations. A nil logger discards logs. Its Handler serves every
// route, including /healthz, /readyz and /metrics.
func Open(dbPath string, logger *slog.Logger) (*Service, error) {
	base, err := participant.Open(Name, dbPath, logger, migrationFS)
	if err != nil {
		return nil, err
	}
	s := &Service{Base: base}
	if err := base.Serve(s.routes()); err != nil {
		return nil, err
	}
	return s, nil
}

// routes is the route table: the mux is built from it and the OpenAPI test
// compares it with docs/openapi/stocks.yaml.
func (s *Service) routes() []httpapi.Route {
	return s.Routes(
		httpapi.Route{Pattern: "PUT /api/stocks/{storeId}/{productId}", Handler: s.putStock},
		httpapi.Route{Pattern: "GET /api/stocks/{storeId}/{productId}", Handler: s.getStock},
		httpapi.Route{Pattern: "PUT /api/reservations/{id}", Handler: s.putReservation},
		httpapi.Route{Pattern: "GET /api/reservations/{id}", Handler: s.getReservation},
		httpapi.Route{Pattern: "DELETE /api/reservations/{id}", Handler: s.deleteReservation},
		httpapi.Route{Pattern: "POST /api/reservations/{id}/commit", Handler: s.commitReservation},
	)
}

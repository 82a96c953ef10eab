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

// Package carts is the reference cart participant: carts that one order at a time
// can lock, check out and give back, with unit prices that travel to the sale.
package carts

import (
	"embed"
	"log/slog"

	"github.com/kubesaga/kubesaga/services/httpapi"
	"github.com/kubesaga/kubesaga/services/participant"
)

// Name is the service name used in logs, metrics and environment variables.
const Name = "carts"

//go:embed migrations/*.sql
var migrationFS embed.FS

// Service serves the carts API on its own SQLite database.
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
// compares it with docs/openapi/carts.yaml.
func (s *Service) routes() []httpapi.Route {
	return s.Routes(
		httpapi.Route{Pattern: "POST /api/carts", Handler: s.createCart},
		httpapi.Route{Pattern: "GET /api/carts/{id}", Handler: s.getCart},
		httpapi.Route{Pattern: "POST /api/carts/{id}/lock", Handler: s.lockCart},
		httpapi.Route{Pattern: "POST /api/carts/{id}/unlock", Handler: s.unlockCart},
		httpapi.Route{Pattern: "POST /api/carts/{id}/checkout", Handler: s.checkoutCart},
	)
}

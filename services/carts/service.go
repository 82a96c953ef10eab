// Package carts is the reference cart participant: carts that one order at a time
// can lock, check out and give back, with unit prices that travel to the sale.
package carts

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kubesaga/kubesaga/services/events"
	"github.com/kubesaga/kubesaga/services/httpapi"
	"github.com/kubesaga/kubesaga/services/idempotency"
	"github.com/kubesaga/kubesaga/services/storage"
)

// Name is the service name used in logs, metrics and environment variables.
const Name = "carts"

//go:embed migrations/*.sql
var migrationFS embed.FS

// Service serves the carts API on its own SQLite database.
type Service struct {
	db      *storage.DB
	events  *events.Log
	metrics *httpapi.Metrics
	logger  *slog.Logger
	handler http.Handler
}

// Open creates the database's folder, opens the SQLite file (WAL) and applies
// the embedded migrations. A nil logger discards logs.
func Open(dbPath string, logger *slog.Logger) (*Service, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sub, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", Name, err)
	}
	db, err := storage.Open(ctx, dbPath, idempotency.Migrations, events.Migrations, storage.Migrations{Source: Name, FS: sub})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", Name, err)
	}
	s := &Service{db: db, metrics: httpapi.NewMetrics(Name), logger: logger}
	if s.events, err = events.NewLog(db, s.metrics.Registry, Name, logger); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open %s: %w", Name, err)
	}
	if s.handler, err = httpapi.NewHandler(s.routes(), s.metrics, logger); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open %s: %w", Name, err)
	}
	return s, nil
}

// Handler serves every route, including /healthz, /readyz and /metrics.
func (s *Service) Handler() http.Handler { return s.handler }

// MetricsRegistry is the registry served on /metrics; serve adds the
// authentication failure counter to it.
func (s *Service) MetricsRegistry() prometheus.Registerer { return s.metrics.Registry }

// Close closes the database.
func (s *Service) Close() error { return s.db.Close() }

// routes is the route table: the mux is built from it and the OpenAPI test
// compares it with docs/openapi/carts.yaml.
func (s *Service) routes() []httpapi.Route {
	return append(httpapi.OpsRoutes(s.db.Ping, s.metrics, s.logger),
		httpapi.Route{Pattern: "GET /api/events", Handler: s.events.Handler},
		httpapi.Route{Pattern: "POST /api/carts", Handler: s.createCart},
		httpapi.Route{Pattern: "GET /api/carts/{id}", Handler: s.getCart},
		httpapi.Route{Pattern: "POST /api/carts/{id}/lock", Handler: s.lockCart},
		httpapi.Route{Pattern: "POST /api/carts/{id}/unlock", Handler: s.unlockCart},
		httpapi.Route{Pattern: "POST /api/carts/{id}/checkout", Handler: s.checkoutCart},
	)
}

// Package participant assembles what every participant service shares: its SQLite
// database with the shared migrations (idempotency, events) and its own, its business
// event log, its metrics, and the operational routes. A service adds its API routes.
package participant

import (
	"context"
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

// Base is the shared part of a participant service.
type Base struct {
	Name    string
	DB      *storage.DB
	Events  *events.Log
	Metrics *httpapi.Metrics
	Logger  *slog.Logger
}

// Open creates the database's folder, opens the SQLite file (WAL) and applies the shared
// migrations and the service's own (the *.sql files of migrations). A nil logger
// discards logs.
func Open(name, dbPath string, logger *slog.Logger, migrations fs.FS) (*Base, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := storage.Open(ctx, dbPath, idempotency.Migrations, events.Migrations, storage.Migrations{Source: name, FS: migrations})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	b := &Base{Name: name, DB: db, Metrics: httpapi.NewMetrics(name), Logger: logger}
	if b.Events, err = events.NewLog(db, b.Metrics.Registry, name, logger); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	return b, nil
}

// Routes returns the operational routes (/healthz, /readyz, /metrics), the event log
// (GET /api/events) and then the service's API routes.
func (b *Base) Routes(api ...httpapi.Route) []httpapi.Route {
	routes := append(httpapi.OpsRoutes(b.DB.Ping, b.Metrics, b.Logger),
		httpapi.Route{Pattern: "GET /api/events", Handler: b.Events.Handler})
	return append(routes, api...)
}

// Handler builds the service's handler from its routes; on error it closes the database,
// so that a failed Open leaves nothing open.
func (b *Base) Handler(routes []httpapi.Route) (http.Handler, error) {
	h, err := httpapi.NewHandler(routes, b.Metrics, b.Logger)
	if err != nil {
		_ = b.DB.Close()
		return nil, fmt.Errorf("open %s: %w", b.Name, err)
	}
	return h, nil
}

// MetricsRegistry is the registry served on /metrics; serve adds the authentication
// failure counter to it.
func (b *Base) MetricsRegistry() prometheus.Registerer { return b.Metrics.Registry }

// Close closes the database.
func (b *Base) Close() error { return b.DB.Close() }

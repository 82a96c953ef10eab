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
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kubesaga/kubesaga/internal/eventbus"
	"github.com/kubesaga/kubesaga/services/events"
	"github.com/kubesaga/kubesaga/services/httpapi"
	"github.com/kubesaga/kubesaga/services/idempotency"
	"github.com/kubesaga/kubesaga/services/outbox"
	"github.com/kubesaga/kubesaga/services/storage"
)

// Base is the shared part of a participant service.
type Base struct {
	Name    string
	DB      *storage.DB
	Events  *events.Log
	Metrics *httpapi.Metrics
	Logger  *slog.Logger
	handler http.Handler
}

// Open creates the database's folder, opens the SQLite file (WAL) and applies the shared
// migrations and the service's own: the *.sql files in the folder "migrations" of
// files (the service's embedded files). A nil logger discards logs.
func Open(name, dbPath string, logger *slog.Logger, files fs.FS) (*Base, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	migrations, err := fs.Sub(files, "migrations")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := storage.Open(ctx, dbPath, idempotency.Migrations, events.Migrations, outbox.Migrations,
		storage.Migrations{Source: name, FS: migrations})
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

// Serve builds the service's handler from its routes (see Routes); on error it closes
// the database, so that a failed Open leaves nothing open.
func (b *Base) Serve(routes []httpapi.Route) error {
	h, err := httpapi.NewHandler(routes, b.Metrics, b.Logger)
	if err != nil {
		_ = b.DB.Close()
		return fmt.Errorf("open %s: %w", b.Name, err)
	}
	b.handler = h
	return nil
}

// Handler serves every route given to Serve.
func (b *Base) Handler() http.Handler { return b.handler }

// MetricsRegistry is the registry served on /metrics; serve adds the authentication
// failure counter to it.
func (b *Base) MetricsRegistry() prometheus.Registerer { return b.Metrics.Registry }

// StartOutbox connects to the event bus and runs the outbox relay (package outbox) in
// the background, woken by every commit that appends events. It returns at once, even
// when the bus is down; stop ends the relay and closes the connection (call it before
// Close).
func (b *Base) StartOutbox(ctx context.Context, o eventbus.Options, cfg outbox.Config) (stop func(), err error) {
	if o.Name == "" {
		o.Name = "kubesaga-" + b.Name
	}
	cfg.Service = b.Name
	var started atomic.Pointer[outbox.Relay]
	conn, err := eventbus.Connect(o, b.Logger, func() {
		if r := started.Load(); r != nil {
			r.Nudge() // the bus is back: publish the backlog now
		}
	})
	if err != nil {
		return nil, err
	}
	relay, err := outbox.New(b.DB, b.Events, conn.JS, cfg, b.Metrics.Registry, b.Logger)
	if err != nil {
		conn.Close()
		return nil, err
	}
	started.Store(relay)
	b.Events.Notify(relay.Nudge)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		relay.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
		conn.Close()
	}, nil
}

// Close closes the database.
func (b *Base) Close() error { return b.DB.Close() }

// Do is one idempotent "do" call of a saga step, on a resource whose id the caller
// chose (the Order UID).
type Do struct {
	Scope       string // the idempotency scope; it also names the resource in refusals ("sale")
	Key         string // the resource id
	RequestHash string // idempotency.Hash of the validated request
	Action      string // the business event action of a refusal (CREATE_SALE)
	Correlation string // the correlation id of a refusal's event
	Undone      string // what its undo did, for refusals ("cancelled")
}

// Idempotent runs a do in one write transaction. A call seen before answers its
// stored first answer; a call whose undo already ran, or that reuses the id with a
// different request, is refused and the refusal recorded as a Failure event of
// d.Action. Otherwise work runs and its answer, success or refusal, is saved to
// be replayed, in the same transaction as the change.
func (b *Base) Idempotent(ctx context.Context, d Do, work func(tx *storage.Tx) (httpapi.Answer, error)) (httpapi.Answer, error) {
	var answer httpapi.Answer
	err := b.DB.Write(ctx, func(tx *storage.Tx) error {
		state, rec, err := idempotency.Begin(tx, d.Scope, d.Key, d.RequestHash)
		if err != nil {
			return err
		}
		switch state {
		case idempotency.Replay:
			answer = httpapi.Answer{Status: rec.Status, Body: rec.Body}
			return nil
		case idempotency.Compensated:
			answer = httpapi.ProblemAnswer(httpapi.AlreadyCompensated(fmt.Sprintf("%s %s was %s; it is not made again", d.Scope, d.Key, d.Undone)))
			return b.Events.Append(tx, d.Action, events.Failure, d.Correlation, "refused: already "+d.Undone)
		case idempotency.Mismatch:
			answer = httpapi.ProblemAnswer(httpapi.IdempotencyMismatch(fmt.Sprintf("%s %s exists with a different body", d.Scope, d.Key)))
			return b.Events.Append(tx, d.Action, events.Failure, d.Correlation, "refused: same id, different body")
		}
		if answer, err = work(tx); err != nil {
			return err
		}
		return idempotency.Save(tx, d.Scope, d.Key, idempotency.Record{RequestHash: d.RequestHash, Status: answer.Status, Body: answer.Body})
	})
	return answer, err
}

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

// Package events keeps a participant's business event log: what it did or
// refused, for which saga (correlation id), written in the same transaction as
// the change it describes, listed over HTTP and counted in Prometheus.
package events

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kubesaga/kubesaga/services/httpapi"
	"github.com/kubesaga/kubesaga/services/storage"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations creates the events table.
var Migrations = storage.Migrations{Source: "events", FS: func() fs.FS {
	sub, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		panic(err)
	}
	return sub
}()}

// Outcomes of a business event.
const (
	Success = "SUCCESS"
	Failure = "FAILURE" // a business refusal; faults of the service are not events
)

// Event is one entry of the log.
type Event struct {
	Action        string    `json:"action"`
	Outcome       string    `json:"outcome"`
	CorrelationID string    `json:"correlationId"`
	Detail        string    `json:"detail"`
	CreatedAt     time.Time `json:"createdAt"`
}

// Log appends and lists events of one service database.
type Log struct {
	db      *storage.DB
	logger  *slog.Logger
	counter *prometheus.CounterVec
	// notify, when set, is told after each commit that appended events (the event bus
	// relay's wake-up); it must not block.
	notify atomic.Pointer[func()]
}

// Notify sets f to run after every commit that appended events. f must return at once.
func (l *Log) Notify(f func()) { l.notify.Store(&f) }

// NewLog registers kubesaga_business_events_total{action,outcome} on reg.
func NewLog(db *storage.DB, reg prometheus.Registerer, service string, logger *slog.Logger) (*Log, error) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name:        "kubesaga_business_events_total",
		Help:        "Business events recorded, by action and outcome.",
		ConstLabels: prometheus.Labels{httpapi.ServiceLabel: service},
	}, []string{"action", "outcome"})
	if err := reg.Register(c); err != nil {
		return nil, fmt.Errorf("register business event counter: %w", err)
	}
	return &Log{db: db, logger: logger, counter: c}, nil
}

// Append writes an event in tx. It is counted and logged only once tx commits,
// so metrics and logs never report a change that was rolled back.
func (l *Log) Append(tx *storage.Tx, action, outcome, correlationID, detail string) error {
	if _, err := tx.Exec(`INSERT INTO events (action, outcome, correlation_id, detail, created_at) VALUES (?, ?, ?, ?, ?)`,
		action, outcome, correlationID, detail, storage.FormatTime(tx.Now)); err != nil {
		return fmt.Errorf("append %s event: %w", action, err)
	}
	tx.OnCommit(func() {
		// Label values in lower case, like every kubesaga metric label (the log keeps LOCK_CART).
		l.counter.WithLabelValues(strings.ToLower(action), strings.ToLower(outcome)).Inc()
		l.logger.Info("business event", "action", action, "outcome", outcome, "correlationId", correlationID, "detail", detail)
		if f := l.notify.Load(); f != nil {
			(*f)()
		}
	})
	return nil
}

// List returns events in the order they were recorded: those of one saga when
// correlationID is set, otherwise the latest limit events.
func (l *Log) List(ctx context.Context, correlationID string, limit int) ([]Event, error) {
	q := `SELECT action, outcome, correlation_id, detail, created_at FROM (
		SELECT id, action, outcome, correlation_id, detail, created_at FROM events ORDER BY id DESC LIMIT ?) ORDER BY id`
	args := []any{limit}
	if correlationID != "" {
		q = `SELECT action, outcome, correlation_id, detail, created_at FROM events WHERE correlation_id = ? ORDER BY id LIMIT ?`
		args = []any{correlationID, limit}
	}
	rows, err := l.db.Reader().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		var created string
		if err := rows.Scan(&e.Action, &e.Outcome, &e.CorrelationID, &e.Detail, &created); err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		if e.CreatedAt, err = storage.ParseTime(created); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return out, nil
}

// Record is a stored event with its id, which orders the log.
type Record struct {
	ID int64
	Event
}

// After returns up to limit events whose id is above id, in id order (the event bus
// relay's read), and the highest id in the log.
func (l *Log) After(ctx context.Context, id int64, limit int) (recs []Record, last int64, err error) {
	if err := l.db.Reader().QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM events`).Scan(&last); err != nil {
		return nil, 0, fmt.Errorf("read last event id: %w", err)
	}
	rows, err := l.db.Reader().QueryContext(ctx,
		`SELECT id, action, outcome, correlation_id, detail, created_at FROM events WHERE id > ? ORDER BY id LIMIT ?`, id, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("read events after %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Record
		var created string
		if err := rows.Scan(&r.ID, &r.Action, &r.Outcome, &r.CorrelationID, &r.Detail, &created); err != nil {
			return nil, 0, fmt.Errorf("read events after %d: %w", id, err)
		}
		if r.CreatedAt, err = storage.ParseTime(created); err != nil {
			return nil, 0, err
		}
		recs = append(recs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("read events after %d: %w", id, err)
	}
	return recs, last, nil
}

// Page is the body of GET /api/events.
type Page struct {
	Items []Event `json:"items"`
}

// Handler serves GET /api/events?correlationId=&limit= (default 100, at most 1000).
func (l *Log) Handler(w http.ResponseWriter, r *http.Request) {
	limit, p := httpapi.QueryLimit(r, 100, 1000)
	if p != nil {
		httpapi.WriteProblem(w, p)
		return
	}
	corr := r.URL.Query().Get("correlationId")
	if len(corr) > 128 {
		httpapi.WriteProblem(w, httpapi.Invalid("correlationId", "must not exceed 128 characters"))
		return
	}
	items, err := l.List(r.Context(), corr, limit)
	if err != nil {
		httpapi.Internal(w, r, l.logger, err)
		return
	}
	_ = httpapi.WriteJSON(w, http.StatusOK, Page{Items: items})
}

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

// Package outbox relays a participant's committed business events to the event bus
// (NATS JetStream) as CloudEvents: the transactional outbox. The events table is the
// outbox (each event is written in the same transaction as its effect); the relay
// reads it in id order after its persisted position, publishes each event with the
// JetStream message id set to the event id, and advances the position only after the
// stream acknowledged. A crash anywhere in between republishes at most the events past
// the position, which the stream drops as duplicates.
package outbox

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kubesaga/kubesaga/internal/eventbus"
	"github.com/kubesaga/kubesaga/services/events"
	"github.com/kubesaga/kubesaga/services/storage"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations creates the relay's position table.
var Migrations = storage.Migrations{Source: "outbox", FS: func() fs.FS {
	sub, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		panic(err)
	}
	return sub
}()}

// Config tunes a relay; zero values take the defaults.
type Config struct {
	Service   string        // the service name: subjects kubesaga.<service>.<action>
	BatchSize int           // events read and published per position write (default 100)
	Tick      time.Duration // how often the relay looks without being woken (default 5s)
	// PublishTimeout bounds one publish (default 5s).
	PublishTimeout time.Duration
	// RetryMax caps the wait between attempts while the bus fails (default 10s).
	RetryMax time.Duration
}

func (c *Config) defaults() {
	if c.BatchSize <= 0 {
		c.BatchSize = 100
	}
	if c.Tick <= 0 {
		c.Tick = 5 * time.Second
	}
	if c.PublishTimeout <= 0 {
		c.PublishTimeout = 5 * time.Second
	}
	if c.RetryMax <= 0 {
		c.RetryMax = 10 * time.Second
	}
}

// Relay publishes one service's events.
type Relay struct {
	cfg    Config
	db     *storage.DB
	log    *events.Log
	js     jetstream.JetStream
	logger *slog.Logger
	wake   chan struct{}

	epoch    string
	position int64
	failing  bool // the last attempt failed; logged once per outage
	resumed  bool // resume ran since the last failure

	lag       prometheus.Gauge
	published prometheus.Counter
	failures  prometheus.Counter
}

// New builds a relay over the service's database and event log; Run starts it.
// It registers kubesaga_outbox_* metrics on reg.
func New(db *storage.DB, log *events.Log, js jetstream.JetStream, cfg Config,
	reg prometheus.Registerer, logger *slog.Logger) (*Relay, error) {
	cfg.defaults()
	if cfg.Service == "" || strings.ContainsAny(cfg.Service, ".*> ") {
		return nil, fmt.Errorf("outbox: service %q: must be a non-empty subject token", cfg.Service)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	labels := prometheus.Labels{"service": cfg.Service}
	r := &Relay{cfg: cfg, db: db, log: log, js: js, logger: logger, wake: make(chan struct{}, 1),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kubesaga_outbox_lag_events", ConstLabels: labels,
			Help: "Committed business events not yet acknowledged by the event bus."}),
		published: prometheus.NewCounter(prometheus.CounterOpts{Name: "kubesaga_outbox_published_total", ConstLabels: labels,
			Help: "Business events the event bus acknowledged (republishes after a crash included)."}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "kubesaga_outbox_publish_failures_total", ConstLabels: labels,
			Help: "Failed attempts to publish a business event (the relay retries)."}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{r.lag, r.published, r.failures} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("outbox: register metrics: %w", err)
			}
		}
	}
	if err := db.Reader().QueryRow(`SELECT position, epoch FROM outbox_position WHERE id = 1`).Scan(&r.position, &r.epoch); err != nil {
		return nil, fmt.Errorf("outbox: read position: %w", err)
	}
	return r, nil
}

// Nudge wakes the relay (after a commit). It never blocks: a pending wake-up is enough.
func (r *Relay) Nudge() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// EventID is the CloudEvent id and JetStream message id of the event with the given
// row id: <service>-<epoch>-<id>.
func (r *Relay) EventID(id int64) string {
	return r.cfg.Service + "-" + r.epoch + "-" + strconv.FormatInt(id, 10)
}

// Position is the id of the last event the bus acknowledged, as persisted.
func (r *Relay) Position() int64 { return r.position }

// Run publishes until ctx ends: at start, when nudged, every Tick, and with a capped
// backoff while the bus fails. It never returns an error: the bus being away is a
// state, not a fault of the service.
func (r *Relay) Run(ctx context.Context) {
	retry := time.Duration(0)
	for {
		err := r.Flush(ctx)
		wait := r.cfg.Tick
		if err != nil && ctx.Err() == nil {
			r.failures.Inc()
			if !r.failing {
				r.logger.Warn("event bus: cannot publish; will retry", "error", err.Error(), "position", r.position)
			}
			r.failing = true
			retry = min(max(2*retry, 250*time.Millisecond), r.cfg.RetryMax)
			wait = retry
		} else if err == nil {
			if r.failing {
				r.logger.Info("event bus: publishing again", "position", r.position)
			}
			r.failing, retry = false, 0
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-r.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// resume makes sure the stream exists and skips what the stream already holds from
// this database (the last message of the service's subjects, when it carries this
// database's epoch): a crash after the acknowledgement but before the position write,
// followed by a restart later than the stream's duplicate window, republishes nothing.
func (r *Relay) resume(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.PublishTimeout)
	defer cancel()
	stream, err := eventbus.EnsureStream(ctx, r.js)
	if err != nil {
		return err
	}
	msg, err := stream.GetLastMsgForSubject(ctx, eventbus.Subject(r.cfg.Service, ">"))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the last %s event of the stream: %w", r.cfg.Service, err)
	}
	prefix := r.cfg.Service + "-" + r.epoch + "-"
	id, ok := strings.CutPrefix(msg.Header.Get(jetstream.MsgIDHeader), prefix)
	if !ok {
		return nil // another database's event
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= r.position {
		return nil
	}
	r.logger.Info("event bus: the stream holds events past the saved position; skipping them", "position", r.position, "streamLast", n)
	return r.save(ctx, n)
}

// Flush publishes every committed event past the position, in id order, a batch at a
// time, saving the position after each batch. It stops at the first failure, having
// saved what was acknowledged before it. Run calls it; it is not safe to call
// concurrently with Run.
func (r *Relay) Flush(ctx context.Context) (err error) {
	if _, last, err := r.log.After(ctx, r.position, 0); err == nil {
		r.lag.Set(float64(last - r.position)) // also while the bus is away
	}
	if !r.resumed {
		if err := r.resume(ctx); err != nil {
			return err
		}
		r.resumed = true
	}
	defer func() {
		if err != nil {
			r.resumed = false // the stream may have gone: look again next time
		}
	}()
	for {
		recs, last, err := r.log.After(ctx, r.position, r.cfg.BatchSize)
		if err != nil {
			return err
		}
		r.lag.Set(float64(last - r.position))
		if len(recs) == 0 {
			return nil
		}
		acked := r.position
		var perr error
		for _, rec := range recs {
			if perr = r.publish(ctx, rec); perr != nil {
				break
			}
			acked = rec.ID
			r.published.Inc()
		}
		if acked > r.position {
			if err := r.save(ctx, acked); err != nil {
				return errors.Join(perr, err)
			}
			r.lag.Set(float64(last - acked))
		}
		if perr != nil {
			return perr
		}
	}
}

func (r *Relay) publish(ctx context.Context, rec events.Record) error {
	e, err := eventbus.New(r.EventID(rec.ID), "/kubesaga/"+r.cfg.Service, r.cfg.Service, rec.Action, rec.CorrelationID, rec.CreatedAt,
		eventbus.ServiceData{Action: rec.Action, Outcome: rec.Outcome, CorrelationID: rec.CorrelationID, Detail: rec.Detail})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.PublishTimeout)
	defer cancel()
	_, err = eventbus.Publish(ctx, r.js, eventbus.Subject(r.cfg.Service, rec.Action), e)
	return err
}

// save persists the position in the service's database.
func (r *Relay) save(ctx context.Context, pos int64) error {
	// A background context for the write itself: a position acknowledged by the bus
	// is worth keeping even when the relay is being stopped.
	err := r.db.Write(context.WithoutCancel(ctx), func(tx *storage.Tx) error {
		_, err := tx.Exec(`UPDATE outbox_position SET position = ? WHERE id = 1 AND position < ?`, pos, pos)
		return err
	})
	if err != nil {
		return fmt.Errorf("save outbox position %d: %w", pos, err)
	}
	r.position = pos
	return nil
}

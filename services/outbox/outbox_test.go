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

package outbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kubesaga/kubesaga/internal/eventbus"
	"github.com/kubesaga/kubesaga/internal/eventbus/natsembed"
	"github.com/kubesaga/kubesaga/services/events"
	"github.com/kubesaga/kubesaga/services/outbox"
	"github.com/kubesaga/kubesaga/services/storage"
)

// fixture is a service database with its event log and a real NATS server.
type fixture struct {
	t    *testing.T
	path string
	db   *storage.DB
	log  *events.Log
	nats *natsembed.Server
	conn *eventbus.Conn
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv, err := natsembed.Start(natsembed.Options{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, path: filepath.Join(t.TempDir(), "svc.db"), nats: srv}
	t.Cleanup(func() { f.nats.Shutdown() })
	f.open()
	conn, err := eventbus.Connect(eventbus.Options{URL: srv.URL(), Name: "test"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.conn = conn
	t.Cleanup(conn.Close)
	return f
}

func (f *fixture) open() {
	f.t.Helper()
	db, err := storage.Open(context.Background(), f.path, events.Migrations, outbox.Migrations)
	if err != nil {
		f.t.Fatal(err)
	}
	log, err := events.NewLog(db, prometheus.NewRegistry(), "carts", slog.New(slog.DiscardHandler))
	if err != nil {
		f.t.Fatal(err)
	}
	f.db, f.log = db, log
	f.t.Cleanup(func() { _ = db.Close() })
}

func (f *fixture) relay(reg prometheus.Registerer) *outbox.Relay {
	f.t.Helper()
	r, err := outbox.New(f.db, f.log, f.conn.JS, outbox.Config{Service: "carts", BatchSize: 7, Tick: 50 * time.Millisecond,
		PublishTimeout: time.Second, RetryMax: 100 * time.Millisecond}, reg, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// appendEvents commits n events in n transactions, alternating two sagas.
func (f *fixture) appendEvents(from, n int) {
	f.t.Helper()
	for i := from; i < from+n; i++ {
		err := f.db.Write(context.Background(), func(tx *storage.Tx) error {
			return f.log.Append(tx, "LOCK_CART", events.Success, fmt.Sprintf("saga-%d", i%2), fmt.Sprintf("event %d", i))
		})
		if err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *fixture) stored() []eventbus.Received {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := eventbus.ReadAll(ctx, f.conn.JS, eventbus.FollowOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return got
}

// checkExactlyOnce asserts that the stream holds events 0..n-1 of appendEvents exactly
// once each, in commit order.
func checkExactlyOnce(t *testing.T, got []eventbus.Received, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("stream holds %d events, want %d", len(got), n)
	}
	seen := map[string]bool{}
	for i, r := range got {
		if seen[r.Event.ID] {
			t.Fatalf("event %s stored twice", r.Event.ID)
		}
		seen[r.Event.ID] = true
		var d eventbus.ServiceData
		if err := json.Unmarshal(r.Event.Data, &d); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("event %d", i); d.Detail != want {
			t.Fatalf("stream position %d holds %q, want %q (out of order)", i, d.Detail, want)
		}
		if r.MsgID != r.Event.ID || r.Subject != "kubesaga.carts.LOCK_CART" || r.Event.Type != "io.kubesaga.carts.LOCK_CART.v1" ||
			r.Event.Source != "/kubesaga/carts" || r.Event.Subject != d.CorrelationID || r.Event.SpecVersion != "1.0" || r.Event.Time.IsZero() {
			t.Fatalf("event %d: wrong envelope: %+v (subject %s, msg id %s)", i, r.Event, r.Subject, r.MsgID)
		}
	}
}

func TestRelayPublishesCommittedEventsInOrderOnce(t *testing.T) {
	f := newFixture(t)
	f.appendEvents(0, 20)
	reg := prometheus.NewRegistry()
	r := f.relay(reg)
	ctx := context.Background()
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	f.appendEvents(20, 3)
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, f.stored(), 23)
	if r.Position() != 23 {
		t.Fatalf("position %d, want 23", r.Position())
	}
	if lag := metricValue(t, reg, "kubesaga_outbox_lag_events"); lag != 0 {
		t.Fatalf("lag %v after a flush, want 0", lag)
	}
}

// A crash after the bus acknowledged but before the position was saved leaves the
// position behind the stream. The next relay must not store anything twice, whether
// it skips ahead (the stream's last event) or republishes (the duplicate window).
func TestRelayAfterLostPositionStoresNoDuplicate(t *testing.T) {
	f := newFixture(t)
	f.appendEvents(0, 10)
	if err := f.relay(nil).Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The state a kill -9 between the ack and the position write leaves.
	if err := f.db.Write(context.Background(), func(tx *storage.Tx) error {
		_, err := tx.Exec(`UPDATE outbox_position SET position = 4`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	_ = f.db.Close()
	f.open()
	f.appendEvents(10, 2)

	// Republish without the skip-ahead: the server's duplicate window drops them.
	r := f.relay(nil)
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, f.stored(), 12)

	// And with it: Run resumes from the stream's last event of this database.
	if err := f.db.Write(context.Background(), func(tx *storage.Tx) error {
		_, err := tx.Exec(`UPDATE outbox_position SET position = 2`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	r = f.relay(nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	waitFor(t, func() bool { return savedPosition(t, f.db) == 12 })
	cancel()
	<-done
	checkExactlyOnce(t, f.stored(), 12)
}

// The bus goes away: commits go on, the relay retries, and the backlog is published
// once the bus returns, each event once.
func TestRelayPublishesBacklogWhenBusReturns(t *testing.T) {
	f := newFixture(t)
	reg := prometheus.NewRegistry()
	r := f.relay(reg)
	f.log.Notify(r.Nudge)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	defer func() { cancel(); <-done }()

	f.appendEvents(0, 5)
	waitFor(t, func() bool { return savedPosition(t, f.db) == 5 })
	f.nats.Shutdown()
	f.appendEvents(5, 30) // the request path does not wait for the bus
	waitFor(t, func() bool {
		return metricValue(t, reg, "kubesaga_outbox_publish_failures_total") > 0 &&
			metricValue(t, reg, "kubesaga_outbox_lag_events") == 30
	})
	if pos := savedPosition(t, f.db); pos != 5 {
		t.Fatalf("position %d while the bus is down, want 5", pos)
	}
	srv, err := f.nats.Restart()
	if err != nil {
		t.Fatal(err)
	}
	f.nats = srv
	waitFor(t, func() bool { return savedPosition(t, f.db) == 35 })
	checkExactlyOnce(t, f.stored(), 35)
}

// A consumer that takes nothing does not hold publishing back: the stream keeps the
// events and the relay's position reaches the end while the consumer still waits.
func TestSlowConsumerDoesNotSlowTheRelay(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.relay(nil)
	if err := r.Flush(ctx); err != nil { // creates the stream
		t.Fatal(err)
	}
	cons, err := f.conn.JS.CreateOrUpdateConsumer(ctx, eventbus.StreamName, jetstream.ConsumerConfig{
		Durable: "slow", AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 1})
	if err != nil {
		t.Fatal(err)
	}
	f.appendEvents(0, 1)
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	msg, err := cons.Next() // taken, never acknowledged: the consumer is stuck
	if err != nil {
		t.Fatal(err)
	}
	_ = msg
	f.appendEvents(1, 200)
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if r.Position() != 201 {
		t.Fatalf("position %d, want 201", r.Position())
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumAckPending != 1 || info.NumPending != 200 {
		t.Fatalf("consumer: %d unacknowledged, %d pending; want 1 and 200", info.NumAckPending, info.NumPending)
	}
	checkExactlyOnce(t, f.stored(), 201)
}

func savedPosition(t *testing.T, db *storage.DB) int64 {
	t.Helper()
	var pos int64
	if err := db.Reader().QueryRow(`SELECT position FROM outbox_position`).Scan(&pos); err != nil {
		t.Fatal(err)
	}
	return pos
}

// waitFor polls cond (up to a minute: a bound against hangs, not a speed assertion).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within a minute")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// metricValue reads a gauge or counter without labels (other than constant ones).
func metricValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name || len(mf.GetMetric()) != 1 {
			continue
		}
		m := mf.GetMetric()[0]
		if m.GetGauge() != nil {
			return m.GetGauge().GetValue()
		}
		return m.GetCounter().GetValue()
	}
	t.Fatalf("metric %s not found", name)
	return 0
}

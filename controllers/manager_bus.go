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

package controllers

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/kubesaga/kubesaga/internal/eventbus"
)

// BusOptions are the event bus flags of the operator.
type BusOptions struct {
	eventbus.Options
	// RetryAfter is the wait before publishing again after a failure.
	RetryAfter time.Duration
	// MaxConcurrentReconciles bounds the Orders published in parallel.
	MaxConcurrentReconciles int
}

// BindFlags registers --nats-url, --nats-creds and the publisher's tuning.
func (b *BusOptions) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&b.URL, "nats-url", envOr("NATS_URL", ""),
		"NATS server(s) of the event bus, e.g. nats://nats:4222; empty: the saga log is not published (env NATS_URL)")
	fs.StringVar(&b.CredsFile, "nats-creds", envOr("NATS_CREDS", ""), "NATS credentials file (.creds) for the event bus (env NATS_CREDS)")
	fs.DurationVar(&b.RetryAfter, "nats-retry", 2*time.Second, "wait before publishing an Order's saga log again after the bus failed")
	fs.IntVar(&b.MaxConcurrentReconciles, "nats-max-concurrent-publishes", 4, "Orders whose saga log is published in parallel")
}

// Validate names the flag that cannot work.
func (b *BusOptions) Validate() error {
	if err := b.Options.Validate(); err != nil {
		return err
	}
	if b.Enabled() && b.RetryAfter <= 0 {
		return fmt.Errorf("--nats-retry %s: must be positive", b.RetryAfter)
	}
	return nil
}

// setupOrderEvents registers the saga log publisher when a bus is configured. The
// connection does not wait for the server: the operator starts, and sagas run, with
// the bus away.
func setupOrderEvents(mgr ctrl.Manager, b BusOptions) error {
	if !b.Enabled() {
		return nil
	}
	if b.Name == "" {
		b.Name = "kubesaga-operator"
	}
	logger := slog.New(logr.ToSlogHandler(mgr.GetLogger().WithName("eventbus")))
	conn, err := eventbus.Connect(b.Options, logger, nil)
	if err != nil {
		return err
	}
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		<-ctx.Done()
		conn.Close()
		return nil
	})); err != nil {
		conn.Close()
		return fmt.Errorf("add event bus connection: %w", err)
	}
	r := &OrderEventsReconciler{Client: mgr.GetClient(), JS: conn.JS, RetryAfter: b.RetryAfter}
	if err := r.SetupWithManager(mgr, max(b.MaxConcurrentReconciles, 1)); err != nil {
		return fmt.Errorf("set up order events controller: %w", err)
	}
	return nil
}

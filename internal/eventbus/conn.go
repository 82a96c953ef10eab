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

package eventbus

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Options say how to reach NATS. An empty URL means no bus.
type Options struct {
	URL       string // nats://host:4222, comma-separated for a cluster
	CredsFile string // a NATS .creds file (JWT + NKey seed); empty: no credentials
	Name      string // the client name servers show (e.g. kubesaga-carts)
}

// Enabled is true when a bus is configured.
func (o Options) Enabled() bool { return o.URL != "" }

// Validate checks the options before anything connects.
func (o Options) Validate() error {
	if o.CredsFile != "" {
		if o.URL == "" {
			return fmt.Errorf("--nats-creds %q: needs --nats-url", o.CredsFile)
		}
		if _, err := os.Stat(o.CredsFile); err != nil {
			return fmt.Errorf("--nats-creds: %w", err)
		}
	}
	return nil
}

// Conn is a connection to NATS with its JetStream context.
type Conn struct {
	NC *nats.Conn
	JS jetstream.JetStream
}

// Connect returns at once, even when the server is down: the client keeps
// reconnecting for ever in the background, and publishing fails fast (no reconnect
// buffer) until it is back, so that a publisher only ever waits on its own terms.
// onReconnect, if not nil, runs after each reconnection.
func Connect(o Options, logger *slog.Logger, onReconnect func()) (*Conn, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts := []nats.Option{
		nats.Name(o.Name),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.ReconnectBufSize(-1),
		nats.Timeout(2 * time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				logger.Warn("event bus disconnected", "error", err.Error())
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			logger.Info("event bus reconnected", "url", nc.ConnectedUrlRedacted())
			if onReconnect != nil {
				onReconnect()
			}
		}),
		nats.ConnectHandler(func(nc *nats.Conn) {
			logger.Info("event bus connected", "url", nc.ConnectedUrlRedacted())
			if onReconnect != nil {
				onReconnect()
			}
		}),
	}
	if o.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(o.CredsFile))
	}
	nc, err := nats.Connect(o.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to NATS %s: %w", o.URL, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("JetStream on %s: %w", o.URL, err)
	}
	return &Conn{NC: nc, JS: js}, nil
}

// Close closes the connection.
func (c *Conn) Close() { c.NC.Close() }

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

// Package serve runs a participant service as a process: flags with environment
// fallbacks, a structured logger, an HTTP server, and graceful shutdown on SIGTERM.
package serve

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kubesaga/kubesaga/internal/eventbus"
	"github.com/kubesaga/kubesaga/internal/tracing"
	"github.com/kubesaga/kubesaga/services/auth"
	"github.com/kubesaga/kubesaga/services/outbox"
)

// Service is what a participant package provides.
type Service interface {
	Handler() http.Handler
	Close() error
}

// Config is the process configuration.
type Config struct {
	Name            string // service name: labels the authentication metrics
	Addr            string
	DB              string
	LogFormat       string // json or text
	ShutdownTimeout time.Duration
	// TokenFile, when set, holds the bearer tokens the API requires (see package
	// auth); empty leaves the API open, with a warning at start.
	TokenFile string
	// TokenCheckInterval is how often at most TokenFile is re-read (default 1s).
	TokenCheckInterval time.Duration
	// NATS is the event bus; with an empty URL no event is published.
	NATS eventbus.Options
	// Outbox tunes the event bus relay (tests shorten its tick).
	Outbox outbox.Config
}

// ParseConfig reads flags, falling back for each unset flag to the environment:
// first <NAME>_ADDR, <NAME>_DB, <NAME>_LOG_FORMAT, <NAME>_TOKEN_FILE (NAME is the
// service name in upper case, e.g. STOCKS_DB), then ADDR, DB, LOG_FORMAT,
// TOKEN_FILE, then the defaults (:8080, data/<name>.db, json, no token). Flags
// win over the environment.
func ParseConfig(name string, args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	env := func(key, def string) string {
		if v := getenv(strings.ToUpper(name) + "_" + key); v != "" {
			return v
		}
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(usage)
	c := Config{Name: name}
	fs.StringVar(&c.Addr, "addr", env("ADDR", ":8080"), "listen address (env "+strings.ToUpper(name)+"_ADDR or ADDR)")
	envName := strings.ToUpper(name)
	fs.StringVar(&c.DB, "db", env("DB", "data/"+name+".db"), "SQLite database file; its folder is created (env "+envName+"_DB or DB)")
	fs.StringVar(&c.LogFormat, "log-format", env("LOG_FORMAT", "json"), "log format: json or text (env "+envName+"_LOG_FORMAT or LOG_FORMAT)")
	fs.StringVar(&c.TokenFile, "token-file", env("TOKEN_FILE", ""),
		"file with the bearer token(s) the API requires, one per line, re-read when it changes; "+
			"empty: no authentication (env "+envName+"_TOKEN_FILE or TOKEN_FILE)")
	fs.StringVar(&c.NATS.URL, "nats-url", env("NATS_URL", ""),
		"NATS server(s) of the event bus, e.g. nats://nats:4222; empty: no event is published (env "+envName+"_NATS_URL or NATS_URL)")
	fs.StringVar(&c.NATS.CredsFile, "nats-creds", env("NATS_CREDS", ""),
		"NATS credentials file (.creds) for the event bus (env "+envName+"_NATS_CREDS or NATS_CREDS)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 20*time.Second, "how long in-flight requests may run after SIGTERM")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		return Config{}, fmt.Errorf("--log-format must be json or text, got %q", c.LogFormat)
	}
	if c.DB == "" {
		return Config{}, errors.New("--db must not be empty")
	}
	if err := c.NATS.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// NewLogger builds the process logger; every line carries service=<name>.
func NewLogger(format, name string, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if format == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(h).With("service", name)
}

// Main is the whole of a participant's main function:
//
//	func main() { os.Exit(serve.Main("stocks", stocks.Open)) }
func Main[S Service](name string, open func(dbPath string, logger *slog.Logger) (S, error)) int {
	cfg, err := ParseConfig(name, os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 2
	}
	logger := NewLogger(cfg.LogFormat, name, os.Stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	shutdownTracing, err := tracing.Setup(ctx, name, logr.FromSlogHandler(logger.Handler())) // OTEL_* environment; off when unset
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 2
	}
	defer func() {
		if err := tracing.Flush(shutdownTracing); err != nil {
			logger.Error("traces not flushed", "error", err)
		}
	}()
	if err := Run(ctx, cfg, logger, func(path string, l *slog.Logger) (Service, error) { return open(path, l) }, nil); err != nil {
		logger.Error("stopped with an error", "error", err)
		return 1
	}
	return 0
}

// Run opens the service, serves it on cfg.Addr until ctx is done, then stops
// accepting connections, lets in-flight requests finish (up to
// cfg.ShutdownTimeout) and closes the database. listening, if not nil,
// receives the bound address (useful with ":0").
func Run(ctx context.Context, cfg Config, logger *slog.Logger,
	open func(string, *slog.Logger) (Service, error), listening func(net.Addr)) (err error) {
	svc, err := open(cfg.DB, logger)
	if err != nil {
		return fmt.Errorf("open service: %w", err)
	}
	defer func() {
		if cerr := svc.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close service: %w", cerr))
		} else {
			logger.Info("database closed", "db", cfg.DB)
		}
	}()

	if cfg.NATS.Enabled() {
		stopRelay, err := startOutbox(ctx, cfg, svc)
		if err != nil {
			return err
		}
		defer stopRelay() // before the database closes (defers run last-in, first-out)
	}

	handler, err := guard(cfg, logger, svc)
	if err != nil {
		return err
	}
	return HTTP(ctx, HTTPOptions{
		Addr: cfg.Addr, Handler: handler, Logger: logger, ShutdownTimeout: cfg.ShutdownTimeout,
		Listening: listening, LogAttrs: []any{"db", cfg.DB},
	})
}

// HTTPOptions configure HTTP.
type HTTPOptions struct {
	Addr    string
	Handler http.Handler
	Logger  *slog.Logger
	// WriteTimeout bounds a response; default 30s.
	WriteTimeout time.Duration
	// ShutdownTimeout is how long in-flight requests may run once ctx is done.
	ShutdownTimeout time.Duration
	// Listening, if not nil, receives the bound address (useful with ":0").
	Listening func(net.Addr)
	// BeforeShutdown, if not nil, runs when ctx is done, before the server stops
	// accepting connections (e.g. to answer requests that wait).
	BeforeShutdown func()
	// LogAttrs are added to the "serving" log line.
	LogAttrs []any
}

// HTTP serves o.Handler on o.Addr until ctx is done, then stops accepting
// connections and lets in-flight requests finish (up to o.ShutdownTimeout). The
// participant services (Run) and the gateway share it.
func HTTP(ctx context.Context, o HTTPOptions) error {
	if o.WriteTimeout == 0 {
		o.WriteTimeout = 30 * time.Second
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.Addr, err)
	}
	srv := &http.Server{
		Handler:           o.Handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      o.WriteTimeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn),
	}
	o.Logger.Info("serving", append([]any{"addr", ln.Addr().String()}, o.LogAttrs...)...)
	if o.Listening != nil {
		o.Listening(ln.Addr())
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	o.Logger.Info("shutting down", "timeout", o.ShutdownTimeout.String())
	if o.BeforeShutdown != nil {
		o.BeforeShutdown()
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), o.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// outboxService is implemented by services that relay their events (participant.Base).
type outboxService interface {
	StartOutbox(ctx context.Context, o eventbus.Options, cfg outbox.Config) (stop func(), err error)
}

func startOutbox(ctx context.Context, cfg Config, svc Service) (func(), error) {
	s, ok := svc.(outboxService)
	if !ok {
		return nil, fmt.Errorf("--nats-url: service %s publishes no events", cfg.Name)
	}
	stop, err := s.StartOutbox(context.WithoutCancel(ctx), cfg.NATS, cfg.Outbox)
	if err != nil {
		return nil, fmt.Errorf("start the event bus relay: %w", err)
	}
	return stop, nil
}

// metricsRegistry is implemented by services whose /metrics should include the
// authentication failures.
type metricsRegistry interface {
	MetricsRegistry() prometheus.Registerer
}

// guard wraps the service's handler with bearer-token authentication when
// cfg.TokenFile is set, and warns loudly when it is not.
func guard(cfg Config, logger *slog.Logger, svc Service) (http.Handler, error) {
	if cfg.TokenFile == "" {
		logger.Warn("no --token-file: the API accepts calls from anyone who can reach it; set TOKEN_FILE in production")
		return svc.Handler(), nil
	}
	var reg prometheus.Registerer
	if m, ok := svc.(metricsRegistry); ok {
		reg = m.MetricsRegistry()
	}
	g, err := auth.New(auth.Options{
		TokenFile:     cfg.TokenFile,
		Service:       cfg.Name,
		Registerer:    reg,
		Logger:        logger,
		CheckInterval: cfg.TokenCheckInterval,
	})
	if err != nil {
		return nil, err
	}
	return g.Wrap(svc.Handler()), nil
}

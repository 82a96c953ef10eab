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

// The composition root of the operator: flags, the controller-runtime manager, the
// participant clients and the Order reconciler. It lives here rather than in package main
// (cmd/manager) because the envtest suite, test/chaos, test/bench and test/charts start
// the operator in-process with the production wiring, and a main package cannot be imported.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/ordersaga"
	"github.com/kubesaga/kubesaga/internal/participants"
	"github.com/kubesaga/kubesaga/internal/saga"
	"github.com/kubesaga/kubesaga/internal/sagacel"
	"github.com/kubesaga/kubesaga/internal/tracing"
)

// ManagerOptions are the manager's settings; every one is a flag.
type ManagerOptions struct {
	CartsURL, StocksURL, SalesURL string
	TokenFile                     string
	StepTimeout                   time.Duration
	MaxAttempts                   int
	CompensationMaxAttempts       int
	BackoffBase, BackoffMax       time.Duration
	MaxStepsPerPass               int
	MaxConcurrentReconciles       int
	KubeAPIQPS                    float64
	KubeAPIBurst                  int
	MetricsAddr, ProbeAddr        string
	PprofAddr                     string
	LeaderElect                   bool
	LeaderElectionNamespace       string
	LeaseDuration                 time.Duration
	LogFormat                     string
	LogLevel                      int
	// SagaCELCostLimit is the CEL cost limit of one expression of a SagaTemplate (0: the default).
	SagaCELCostLimit uint64
	// SkipNameValidation lets one process run several managers (tests restart the operator).
	SkipNameValidation bool
	// Bus is the event bus the saga log is published on (manager_bus.go); empty: none.
	Bus BusOptions
}

// BindFlags registers the options as flags, with defaults fit for production.
func (o *ManagerOptions) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.CartsURL, "carts-url", envOr("CARTS_URL", "http://carts:8080"), "base URL of the carts service (env CARTS_URL)")
	fs.StringVar(&o.StocksURL, "stocks-url", envOr("STOCKS_URL", "http://stocks:8080"), "base URL of the stocks service (env STOCKS_URL)")
	fs.StringVar(&o.SalesURL, "sales-url", envOr("SALES_URL", "http://sales:8080"), "base URL of the sales service (env SALES_URL)")
	fs.StringVar(&o.TokenFile, "token-file", envOr("TOKEN_FILE", ""),
		"file holding the bearer token sent to participants, re-read on every call (env TOKEN_FILE)")
	fs.DurationVar(&o.StepTimeout, "step-timeout", 5*time.Second, "timeout of one participant call; past it the call is a transient fault")
	fs.IntVar(&o.MaxAttempts, "max-attempts", 5,
		"before the pivot: attempts of a step before a transient failure counts as final; after it (retries go on): "+
			"when to raise the RetryLimitExceeded alarm")
	fs.IntVar(&o.CompensationMaxAttempts, "compensation-max-attempts", 10,
		"attempts of a compensation that fails transiently before the RetryLimitExceeded alarm (retries go on)")
	fs.DurationVar(&o.BackoffBase, "backoff-base", time.Second, "first retry delay after a transient failure")
	fs.DurationVar(&o.BackoffMax, "backoff-max", 5*time.Minute, "cap of the exponential retry delay")
	fs.IntVar(&o.MaxStepsPerPass, "max-steps-per-pass", 8,
		"participant calls one reconcile may make before it writes status (1: one step per pass)")
	fs.IntVar(&o.MaxConcurrentReconciles, "max-concurrent-reconciles", 16, "Orders reconciled in parallel")
	fs.Float64Var(&o.KubeAPIQPS, "kube-api-qps", 200,
		"client-side QPS limit towards the API server (client-go's default of 20 would cap throughput)")
	fs.IntVar(&o.KubeAPIBurst, "kube-api-burst", 400, "client-side burst towards the API server")
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", ":8080", "address of the metrics endpoint (0 disables it)")
	fs.StringVar(&o.ProbeAddr, "health-probe-bind-address", ":8081", "address of the health and readiness probes")
	fs.StringVar(&o.PprofAddr, "pprof-bind-address", "", "address of the pprof endpoint for profiling (empty disables it)")
	fs.BoolVar(&o.LeaderElect, "leader-elect", false, "elect a leader so that only one replica reconciles")
	fs.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", "",
		"namespace of the leader election Lease (default: the pod's namespace)")
	fs.DurationVar(&o.LeaseDuration, "lease-duration", 15*time.Second, "leader election lease duration")
	fs.StringVar(&o.LogFormat, "log-format", envOr("LOG_FORMAT", "json"), "log format: json or text (env LOG_FORMAT)")
	fs.IntVar(&o.LogLevel, "v", 0, "log verbosity: 1 logs every participant call")
	fs.Uint64Var(&o.SagaCELCostLimit, "saga-cel-cost-limit", sagacel.DefaultLimits.Cost,
		"CEL cost limit of one SagaTemplate expression evaluation; past it the step is refused")
	o.Bus.BindFlags(fs)
}

// Logger returns the structured logger the flags ask for (log/slog behind logr).
func (o *ManagerOptions) Logger() logr.Logger {
	hopts := &slog.HandlerOptions{Level: slog.Level(-o.LogLevel)}
	var h slog.Handler = slog.NewJSONHandler(os.Stderr, hopts)
	if o.LogFormat == "text" {
		h = slog.NewTextHandler(os.Stderr, hopts)
	}
	return logr.FromSlogHandler(h)
}

// Policy is the retry policy from the flags.
func (o *ManagerOptions) Policy() saga.Policy {
	return saga.Policy{MaxAttempts: o.MaxAttempts, CompensationMaxAttempts: o.CompensationMaxAttempts,
		BackoffBase: o.BackoffBase, BackoffMax: o.BackoffMax}
}

// Validate refuses settings that cannot work, naming the flag.
func (o *ManagerOptions) Validate() error {
	var errs []error
	if o.LogFormat != "json" && o.LogFormat != "text" {
		errs = append(errs, fmt.Errorf("--log-format %q: must be json or text", o.LogFormat))
	}
	if o.StepTimeout <= 0 {
		errs = append(errs, errors.New("--step-timeout must be positive"))
	}
	if o.MaxConcurrentReconciles < 1 {
		errs = append(errs, errors.New("--max-concurrent-reconciles must be at least 1"))
	}
	if o.MaxStepsPerPass < 1 {
		errs = append(errs, errors.New("--max-steps-per-pass must be at least 1"))
	}
	if err := ordersaga.Definition(o.Policy()).Validate(); err != nil {
		errs = append(errs, fmt.Errorf("retry flags: %w", err))
	}
	errs = append(errs, o.Bus.Validate())
	return errors.Join(errs...)
}

// Scheme knows the built-in types and the Order.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(sagav1.AddToScheme(s))
	return s
}

// Participants builds the participant clients from the options, with one shared
// keep-alive pool sized for the concurrent reconciles.
func (o *ManagerOptions) Participants() (ordersaga.Participants, error) {
	po := participants.Options{Timeout: o.StepTimeout, MaxIdleConnsPerHost: 2 * o.MaxConcurrentReconciles}
	if o.TokenFile != "" {
		po.TokenFunc = participants.TokenFile(o.TokenFile) // re-read on every call: a rotated Secret applies without restart
	}
	httpClient := participants.NewHTTPClient(po)
	carts, err := participants.NewCarts(o.CartsURL, httpClient, po)
	if err != nil {
		return ordersaga.Participants{}, fmt.Errorf("--carts-url: %w", err)
	}
	stocks, err := participants.NewStocks(o.StocksURL, httpClient, po)
	if err != nil {
		return ordersaga.Participants{}, fmt.Errorf("--stocks-url: %w", err)
	}
	sales, err := participants.NewSales(o.SalesURL, httpClient, po)
	if err != nil {
		return ordersaga.Participants{}, fmt.Errorf("--sales-url: %w", err)
	}
	return ordersaga.Participants{Carts: carts, Stocks: stocks, Sales: sales}, nil
}

// NewManager builds a manager with the Order reconciler registered, ready to Start.
func NewManager(cfg *rest.Config, o ManagerOptions) (ctrl.Manager, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = float32(o.KubeAPIQPS), o.KubeAPIBurst
	lease := o.LeaseDuration
	renew := lease * 2 / 3
	retry := lease / 7
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        Scheme(),
		Metrics:                       metricsserver.Options{BindAddress: o.MetricsAddr},
		HealthProbeBindAddress:        o.ProbeAddr,
		PprofBindAddress:              o.PprofAddr,
		LeaderElection:                o.LeaderElect,
		LeaderElectionID:              "kubesaga.saga.kubesaga.io",
		LeaderElectionNamespace:       o.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 &lease,
		RenewDeadline:                 &renew,
		RetryPeriod:                   &retry,
		Controller:                    config.Controller{SkipNameValidation: &o.SkipNameValidation},
		// Every finished Order stays in the informer cache; managed fields are most of an
		// Order's bytes and the reconciler never reads them (it patches, it does not apply).
		Cache: cache.Options{DefaultTransform: cache.TransformStripManagedFields()},
	})
	if err != nil {
		return nil, fmt.Errorf("create manager: %w", err)
	}
	parts, err := o.Participants()
	if err != nil {
		return nil, err
	}
	r := &OrderReconciler{
		Client:          mgr.GetClient(),
		Recorder:        mgr.GetEventRecorder("kubesaga"),
		Participants:    parts,
		Policy:          o.Policy(),
		StepTimeout:     o.StepTimeout,
		MaxStepsPerPass: o.MaxStepsPerPass,
		Metrics:         SagaMetrics(),
	}
	if err := r.SetupWithManager(mgr, o.MaxConcurrentReconciles); err != nil {
		return nil, fmt.Errorf("set up order controller: %w", err)
	}
	if err := setupSagas(mgr, o); err != nil { // Sagas written as templates: docs/sagas.md
		return nil, err
	}
	if err := setupOrderEvents(mgr, o.Bus); err != nil {
		return nil, err
	}
	// Orders by phase, oldest saga in flight, build info: computed from this manager's
	// cache at scrape time.
	RegisterStateMetrics(mgr.GetCache())
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, fmt.Errorf("add health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return nil, fmt.Errorf("add ready check: %w", err)
	}
	return mgr, nil
}

// RunManager builds the manager and runs it until ctx ends, exporting traces when the
// OTEL_* environment asks for them (internal/tracing), flushed on the way out.
func RunManager(ctx context.Context, cfg *rest.Config, o ManagerOptions) (err error) {
	shutdownTracing, err := tracing.Setup(ctx, "kubesaga", ctrl.Log.WithName("tracing"))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, tracing.Flush(shutdownTracing)) }()
	mgr, err := NewManager(cfg, o)
	if err != nil {
		return err
	}
	ctrl.Log.WithName("setup").Info("starting manager", "carts", o.CartsURL, "stocks", o.StocksURL, "sales", o.SalesURL,
		"maxConcurrentReconciles", o.MaxConcurrentReconciles, "maxStepsPerPass", o.MaxStepsPerPass, "leaderElect", o.LeaderElect)
	return mgr.Start(ctx)
}

func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

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

package gateway

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/services/auth"
	"github.com/kubesaga/kubesaga/services/httpapi"
	"github.com/kubesaga/kubesaga/services/serve"
)

// inClusterNamespace is where a pod finds its own namespace.
const inClusterNamespace = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// Config is the process configuration; every field is a flag.
type Config struct {
	Addr         string
	Namespace    string
	Kubeconfig   string
	TokenFile    string
	LogFormat    string
	DefaultWait  time.Duration
	MaxWait      time.Duration
	KubeAPIQPS   float64
	KubeAPIBurst int
	// ShutdownTimeout bounds the graceful stop; waiting requests are answered at once.
	ShutdownTimeout time.Duration
	// TokenCheckInterval is how often at most TokenFile is re-read (default 1s).
	TokenCheckInterval time.Duration
}

// ParseConfig reads the flags; unset ones fall back to GATEWAY_<NAME> and then
// <NAME> environment variables, like the participant services (package serve).
func ParseConfig(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	env := func(key, def string) string {
		if v := getenv("GATEWAY_" + key); v != "" {
			return v
		}
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet(Name, flag.ContinueOnError)
	fs.SetOutput(usage)
	var c Config
	fs.StringVar(&c.Addr, "addr", env("ADDR", ":8080"), "listen address (env GATEWAY_ADDR or ADDR)")
	fs.StringVar(&c.Namespace, "namespace", env("NAMESPACE", getenv("POD_NAMESPACE")),
		"namespace of the Orders the gateway creates and watches (env GATEWAY_NAMESPACE, NAMESPACE or POD_NAMESPACE; "+
			"default: the pod's own namespace, else default)")
	fs.StringVar(&c.Kubeconfig, "kubeconfig", getenv("KUBECONFIG"), "kubeconfig file; empty: in-cluster config (env KUBECONFIG)")
	fs.StringVar(&c.TokenFile, "token-file", env("TOKEN_FILE", ""),
		"file with the bearer token(s) clients must send, one per line, re-read when it changes; "+
			"empty: no authentication (env GATEWAY_TOKEN_FILE or TOKEN_FILE)")
	fs.StringVar(&c.LogFormat, "log-format", env("LOG_FORMAT", "json"), "log format: json or text (env GATEWAY_LOG_FORMAT or LOG_FORMAT)")
	fs.DurationVar(&c.DefaultWait, "default-wait", DefaultWait, "how long a POST waits for the saga without ?wait=")
	fs.DurationVar(&c.MaxWait, "max-wait", MaxWait, "cap of ?wait=")
	fs.Float64Var(&c.KubeAPIQPS, "kube-api-qps", 50, "client-side QPS limit towards the API server")
	fs.IntVar(&c.KubeAPIBurst, "kube-api-burst", 100, "client-side burst towards the API server")
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
	if c.MaxWait <= 0 {
		return Config{}, fmt.Errorf("--max-wait must be positive, got %s", c.MaxWait)
	}
	if c.DefaultWait < 0 || c.DefaultWait > c.MaxWait {
		return Config{}, fmt.Errorf("--default-wait %s must be between 0 and --max-wait %s", c.DefaultWait, c.MaxWait)
	}
	if c.Namespace == "" {
		c.Namespace = "default"
		if b, err := os.ReadFile(inClusterNamespace); err == nil && strings.TrimSpace(string(b)) != "" {
			c.Namespace = strings.TrimSpace(string(b))
		}
	}
	return c, nil
}

// RESTConfig loads the kubeconfig the flags name, or the in-cluster (or default) one.
func (c Config) RESTConfig() (*rest.Config, error) {
	var rc *rest.Config
	var err error
	if c.Kubeconfig != "" {
		rc, err = clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	} else {
		rc, err = ctrl.GetConfig()
	}
	if err != nil {
		return nil, fmt.Errorf("kubernetes client config: %w", err)
	}
	rc.QPS, rc.Burst = float32(c.KubeAPIQPS), c.KubeAPIBurst
	rc.UserAgent = "kubesaga-gateway"
	return rc, nil
}

// Main is the whole of cmd/gateway's main function.
func Main(args []string) int {
	cfg, err := ParseConfig(args, os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gateway: %v\n", err)
		return 2
	}
	logger := serve.NewLogger(cfg.LogFormat, Name, os.Stderr)
	rc, err := cfg.RESTConfig()
	if err != nil {
		logger.Error("cannot start", "error", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := Run(ctx, cfg, rc, logger, nil); err != nil {
		logger.Error("stopped with an error", "error", err)
		return 1
	}
	return 0
}

// Scheme knows the Order, the only type the gateway reads and writes.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := sagav1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

// Run serves the gateway on cfg.Addr until ctx is done, then answers the waiting
// requests, lets in-flight ones finish (up to cfg.ShutdownTimeout) and stops the
// watch. listening, if not nil, receives the bound address (useful with ":0").
func Run(ctx context.Context, cfg Config, rc *rest.Config, logger *slog.Logger, listening func(net.Addr)) error {
	scheme, err := Scheme()
	if err != nil {
		return err
	}
	api, err := client.New(rc, client.Options{Scheme: scheme})
	if err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	// One informer on the Orders of one namespace: a namespaced list and watch, which a
	// Role in that namespace allows. Managed fields are dropped: the gateway never reads them.
	orders, err := cache.New(rc, cache.Options{
		Scheme:            scheme,
		DefaultNamespaces: map[string]cache.Config{cfg.Namespace: {}},
		DefaultTransform:  cache.TransformStripManagedFields(),
	})
	if err != nil {
		return fmt.Errorf("order cache: %w", err)
	}
	cacheCtx, stopCache := context.WithCancel(context.Background())
	defer stopCache()
	metrics := httpapi.NewMetrics(Name)
	g, err := New(cacheCtx, api, orders, Options{
		Namespace: cfg.Namespace, DefaultWait: cfg.DefaultWait, MaxWait: cfg.MaxWait, Metrics: metrics, Logger: logger,
	})
	if err != nil {
		return err
	}
	cacheDone := make(chan error, 1)
	go func() { cacheDone <- orders.Start(cacheCtx) }()

	handler := g.Handler()
	if cfg.TokenFile == "" {
		logger.Warn("no --token-file: the API accepts orders from anyone who can reach it; set TOKEN_FILE in production")
	} else {
		guard, err := auth.New(auth.Options{
			TokenFile: cfg.TokenFile, Service: Name, Registerer: metrics.Registry, Logger: logger,
			CheckInterval: cfg.TokenCheckInterval,
			RefusalHint:   "send a token listed in the gateway's token Secret",
		})
		if err != nil {
			return err
		}
		handler = guard.Wrap(handler)
	}
	// A watch that stops on its own stops the server: without it nothing would wake
	// the waiting requests.
	serveCtx, stopServing := context.WithCancel(ctx)
	defer stopServing()
	watch := make(chan error, 1)
	go func() {
		err := <-cacheDone
		if cacheCtx.Err() == nil {
			err = fmt.Errorf("order watch stopped: %w", err)
			stopServing()
		} else {
			err = nil
		}
		watch <- err
	}()
	err = serve.HTTP(serveCtx, serve.HTTPOptions{
		Addr: cfg.Addr, Handler: handler, Logger: logger, ShutdownTimeout: cfg.ShutdownTimeout,
		WriteTimeout: cfg.MaxWait + 30*time.Second, // a request may wait MaxWait before it writes
		Listening:    listening,
		// Waiting requests answer now (202 and a Location) instead of holding the shutdown.
		BeforeShutdown: g.Drain,
		LogAttrs:       []any{"namespace", cfg.Namespace},
	})
	stopCache()
	return errors.Join(err, <-watch)
}

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
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/services/httpapi"
)

// Name labels the gateway's metrics and logs.
const Name = "gateway"

// Wait defaults: a POST waits DefaultWait for the saga to finish unless ?wait= says
// otherwise; no request waits longer than MaxWait.
const (
	DefaultWait = 10 * time.Second
	MaxWait     = 60 * time.Second
)

// Options configure a Gateway.
type Options struct {
	// Namespace is where the gateway creates and watches Orders.
	Namespace string
	// DefaultWait is how long a POST waits for the saga without ?wait=; default DefaultWait.
	DefaultWait time.Duration
	// MaxWait caps ?wait=; default MaxWait.
	MaxWait time.Duration
	// Metrics receives the request metrics and the gateway's own; default a new registry.
	Metrics *httpapi.Metrics
	// Logger; nil discards.
	Logger *slog.Logger
}

// Gateway serves the order API. Writes (Create) and reads of Orders the watch has
// not delivered yet go to the API server; every other read comes from the informer
// cache, whose one watch also wakes the waiting requests.
type Gateway struct {
	api      client.Client // uncached
	cache    client.Reader // the namespace's Orders, kept by one informer
	opts     Options
	log      *slog.Logger
	waiters  *waiters
	synced   func() bool
	stopping chan struct{}

	waiting prometheus.Gauge
	created prometheus.Counter
	handler http.Handler
}

// New registers the Order informer's event handler on c (a cache limited to
// opts.Namespace; start it with c.Start) and builds the HTTP handler.
func New(ctx context.Context, api client.Client, c cache.Cache, opts Options) (*Gateway, error) {
	if opts.Namespace == "" {
		return nil, errors.New("gateway: namespace is required")
	}
	if opts.DefaultWait == 0 {
		opts.DefaultWait = DefaultWait
	}
	if opts.MaxWait == 0 {
		opts.MaxWait = MaxWait
	}
	if opts.DefaultWait < 0 || opts.MaxWait < 0 || opts.DefaultWait > opts.MaxWait {
		return nil, fmt.Errorf("gateway: default wait %s must be between 0 and the max wait %s", opts.DefaultWait, opts.MaxWait)
	}
	if opts.Metrics == nil {
		opts.Metrics = httpapi.NewMetrics(Name)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	g := &Gateway{
		api: api, cache: c, opts: opts, log: opts.Logger,
		waiters: newWaiters(), stopping: make(chan struct{}),
		waiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kubesaga_gateway_waiting_requests", Help: "Requests waiting for an Order's saga to finish.",
		}),
		created: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kubesaga_gateway_orders_created_total", Help: "Orders created by the gateway (replays create none).",
		}),
	}
	if err := opts.Metrics.Registry.Register(g.waiting); err != nil {
		return nil, fmt.Errorf("gateway: register metrics: %w", err)
	}
	if err := opts.Metrics.Registry.Register(g.created); err != nil {
		return nil, fmt.Errorf("gateway: register metrics: %w", err)
	}
	inf, err := c.GetInformer(ctx, &sagav1.Order{}, cache.BlockUntilSynced(false))
	if err != nil {
		return nil, fmt.Errorf("gateway: order informer: %w", err)
	}
	reg, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    g.notify,
		UpdateFunc: func(_, obj any) { g.notify(obj) },
		DeleteFunc: g.notify,
	})
	if err != nil {
		return nil, fmt.Errorf("gateway: order event handler: %w", err)
	}
	g.synced = reg.HasSynced
	if g.handler, err = httpapi.NewHandler(g.Routes(), opts.Metrics, opts.Logger); err != nil {
		return nil, err
	}
	return g, nil
}

// notify wakes the requests waiting for the Order of an informer event.
func (g *Gateway) notify(obj any) {
	if d, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	if m, err := meta.Accessor(obj); err == nil {
		g.waiters.notify(m.GetName())
	}
}

// Handler serves the routes (without authentication: Run wraps it).
func (g *Gateway) Handler() http.Handler { return g.handler }

// Metrics is the registry served on /metrics.
func (g *Gateway) Metrics() *httpapi.Metrics { return g.opts.Metrics }

// Drain makes every waiting request answer now (202 for a running saga), so that a
// graceful shutdown does not hold clients for the rest of their wait.
func (g *Gateway) Drain() {
	select {
	case <-g.stopping:
	default:
		close(g.stopping)
	}
}

// Routes is the route table; docs/openapi/gateway.yaml documents exactly these.
func (g *Gateway) Routes() []httpapi.Route {
	return []httpapi.Route{
		{Pattern: "GET /healthz", Handler: httpapi.Healthz},
		{Pattern: "GET /readyz", Handler: g.readyz},
		{Pattern: "GET /metrics", Handler: g.opts.Metrics.Handler().ServeHTTP},
		{Pattern: "POST /api/orders", Handler: g.postOrder},
		// The reference system's path, kept so that its clients work unchanged.
		{Pattern: "POST /api/orchestrator/{$}", Handler: g.postOrder},
		{Pattern: "GET /api/orders/{key}", Handler: g.getOrder},
	}
}

// readyz is ready once the Order watch has delivered its initial list.
func (g *Gateway) readyz(w http.ResponseWriter, _ *http.Request) {
	if !g.synced() {
		httpapi.WriteProblem(w, httpapi.NewProblem(http.StatusServiceUnavailable, httpapi.SlugUnavailable, "Not ready",
			"the watch on Orders has not synced yet"))
		return
	}
	_ = httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// postOrder creates the key's Order, or finds it again, and answers its state after
// waiting up to ?wait= for the saga to finish.
func (g *Gateway) postOrder(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get(HeaderIdempotencyKey)
	if p := CheckKey(key); p != nil {
		httpapi.WriteProblem(w, p)
		return
	}
	wait, p := g.waitParam(r, g.opts.DefaultWait)
	if p != nil {
		httpapi.WriteProblem(w, p)
		return
	}
	req, p := httpapi.ReadRequest(w, r, DecodeRequest)
	if p != nil {
		httpapi.WriteProblem(w, p)
		return
	}
	o, p, err := g.createOrFind(r.Context(), key, req)
	if err != nil {
		g.apiError(w, r, "create order", err)
		return
	}
	if p != nil {
		httpapi.WriteProblem(w, p)
		return
	}
	g.answer(w, r, g.await(r.Context(), o, wait), true)
}

// getOrder answers the state of the key's Order, waiting up to ?wait= (default: no wait).
func (g *Gateway) getOrder(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if p := CheckKey(key); p != nil {
		p.Field, p.Detail = "key", strings.Replace(p.Detail, HeaderIdempotencyKey, "key", 1)
		httpapi.WriteProblem(w, p)
		return
	}
	wait, p := g.waitParam(r, 0)
	if p != nil {
		httpapi.WriteProblem(w, p)
		return
	}
	o, err := g.find(r.Context(), OrderName(key))
	if err != nil {
		g.apiError(w, r, "read order", err)
		return
	}
	if o == nil || o.Annotations[sagav1.IdempotencyKeyAnnotation] != key {
		httpapi.WriteProblem(w, httpapi.NotFound(fmt.Sprintf("no order was created with Idempotency-Key %q in this namespace", key)))
		return
	}
	g.answer(w, r, g.await(r.Context(), o, wait), false)
}

func (g *Gateway) answer(w http.ResponseWriter, r *http.Request, o *sagav1.Order, created bool) {
	if r.Context().Err() != nil {
		return // the client went away
	}
	a, h, err := Answer(o, created)
	if err != nil {
		httpapi.Internal(w, r, g.log, err)
		return
	}
	for k, v := range h {
		w.Header()[k] = v
	}
	httpapi.WriteAnswer(w, a)
}

// waitParam reads ?wait=: a Go duration ("5s", "500ms") or whole seconds ("5"),
// capped at MaxWait; def when absent.
func (g *Gateway) waitParam(r *http.Request, def time.Duration) (time.Duration, *httpapi.Problem) {
	s := r.URL.Query().Get("wait")
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if n, nerr := strconv.Atoi(s); nerr == nil {
		d, err = time.Duration(n)*time.Second, nil
	}
	if err != nil || d < 0 {
		return 0, httpapi.Invalid("wait", fmt.Sprintf("must be a duration such as 5s or a number of seconds, from 0 to %s", g.opts.MaxWait))
	}
	return min(d, g.opts.MaxWait), nil
}

// createOrFind returns the key's Order: the one created for an earlier request
// with the same body, or a new one. A problem refuses the request: the key taken by
// another body (422), or a value the Order's schema refuses (400).
func (g *Gateway) createOrFind(ctx context.Context, key string, req Request) (*sagav1.Order, *httpapi.Problem, error) {
	name, hash := OrderName(key), req.Hash()
	existing := &sagav1.Order{}
	err := g.cache.Get(ctx, types.NamespacedName{Namespace: g.opts.Namespace, Name: name}, existing)
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, nil, err
	}
	// Not in the cache: create it. Should another request (maybe on another replica)
	// have created it an instant ago, the API server answers AlreadyExists.
	if apierrors.IsNotFound(err) {
		o := &sagav1.Order{
			ObjectMeta: metav1.ObjectMeta{
				Name: name, Namespace: g.opts.Namespace,
				Annotations: map[string]string{sagav1.IdempotencyKeyAnnotation: key, sagav1.RequestHashAnnotation: hash},
				Labels:      map[string]string{"app.kubernetes.io/created-by": "kubesaga-gateway"},
			},
			Spec: sagav1.OrderSpec{CartID: req.CartID, StoreID: req.StoreID},
		}
		err := g.api.Create(ctx, o)
		switch {
		case err == nil:
			g.created.Inc()
			g.log.InfoContext(ctx, "order created", "namespace", o.Namespace, "name", o.Name, "uid", o.UID, "idempotencyKey", key)
			return o, nil, nil
		case apierrors.IsInvalid(err):
			return nil, invalid(err), nil
		case !apierrors.IsAlreadyExists(err):
			return nil, nil, err
		}
		if err := g.api.Get(ctx, types.NamespacedName{Namespace: g.opts.Namespace, Name: name}, existing); err != nil {
			return nil, nil, err
		}
	}
	if existing.Annotations[sagav1.IdempotencyKeyAnnotation] != key || existing.Annotations[sagav1.RequestHashAnnotation] != hash {
		return nil, mismatch(key, name), nil
	}
	return existing, nil, nil
}

// find reads an Order from the cache, then from the API server when the watch has
// not delivered it (yet); nil when it does not exist.
func (g *Gateway) find(ctx context.Context, name string) (*sagav1.Order, error) {
	nn := types.NamespacedName{Namespace: g.opts.Namespace, Name: name}
	o := &sagav1.Order{}
	err := g.cache.Get(ctx, nn, o)
	if apierrors.IsNotFound(err) {
		err = g.api.Get(ctx, nn, o)
	}
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return o, nil
}

// settled reports whether waiting longer is pointless: the saga finished, or it is
// Stalled until a person acts.
func settled(o *sagav1.Order) bool {
	return Finished(o) || meta.IsStatusConditionTrue(o.Status.Conditions, sagav1.ConditionStalled)
}

// await returns the Order once its saga settled, or its latest state after wait.
// It registers for news of the Order before each read, so no change is missed,
// and never polls: the informer's events wake it.
func (g *Gateway) await(ctx context.Context, o *sagav1.Order, wait time.Duration) *sagav1.Order {
	if settled(o) || wait <= 0 {
		return o
	}
	g.waiting.Inc()
	defer g.waiting.Dec()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		changed, release := g.waiters.wait(o.Name)
		latest := &sagav1.Order{}
		if err := g.cache.Get(ctx, client.ObjectKeyFromObject(o), latest); err == nil {
			o = latest // the cache is at least as new as o once it holds the Order at all
		}
		if settled(o) {
			release()
			return o
		}
		select {
		case <-changed:
			release()
		case <-timer.C:
			release()
			return o
		case <-ctx.Done():
			release()
			return o
		case <-g.stopping:
			release()
			return o
		}
	}
}

// apiError answers a failed call to the API server: a refusal of the gateway's own
// credentials is its fault (500, logged); anything else is the API server not
// answering now (503: retrying with the same key is safe).
func (g *Gateway) apiError(w http.ResponseWriter, r *http.Request, op string, err error) {
	if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
		httpapi.Internal(w, r, g.log, fmt.Errorf("%s: %w", op, err))
		return
	}
	g.log.WarnContext(r.Context(), "the Kubernetes API did not answer", "op", op, "namespace", g.opts.Namespace, "error", err)
	w.Header().Set("Retry-After", "1")
	httpapi.WriteProblem(w, httpapi.NewProblem(http.StatusServiceUnavailable, httpapi.SlugUnavailable, "Kubernetes API unavailable",
		"the order could not be read or written now; retrying with the same Idempotency-Key is safe"))
}

// invalid carries the API server's validation of the Order through: a 400 naming
// the request field (spec.cartId is cartId) with the server's message, and every
// cause under "errors".
func invalid(err error) *httpapi.Problem {
	var st apierrors.APIStatus
	if !errors.As(err, &st) {
		return httpapi.Invalid("body", err.Error())
	}
	s := st.Status()
	type cause struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	}
	var causes []cause
	if s.Details != nil {
		for _, c := range s.Details.Causes {
			causes = append(causes, cause{Field: strings.TrimPrefix(c.Field, "spec."), Message: c.Message})
		}
	}
	if len(causes) == 0 {
		return httpapi.Invalid("body", s.Message)
	}
	p := httpapi.Invalid(causes[0].Field, causes[0].Message)
	p.Extensions = map[string]any{"errors": causes}
	return p
}

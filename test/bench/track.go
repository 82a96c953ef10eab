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

package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/participants"
)

// tracker watches Orders through an informer and records, per Order, when it reached a
// terminal phase.
type tracker struct {
	mu   sync.Mutex
	recs map[string]*orderRec // by name
}

type orderRec struct {
	created  time.Time // client-side, just before the create call
	terminal time.Time
	phase    sagav1.OrderPhase
}

func newTracker(ctx context.Context, c cache.Cache) (*tracker, error) {
	t := &tracker{recs: map[string]*orderRec{}}
	inf, err := c.GetInformer(ctx, &sagav1.Order{})
	if err != nil {
		return nil, err
	}
	seen := func(obj any) {
		o, ok := obj.(*sagav1.Order)
		if !ok {
			return
		}
		now := time.Now()
		t.mu.Lock()
		defer t.mu.Unlock()
		r := t.recs[o.Name]
		if r == nil {
			return
		}
		switch o.Status.Phase {
		case sagav1.PhaseSucceeded, sagav1.PhaseFailed, sagav1.PhaseStalled:
			if r.terminal.IsZero() {
				r.terminal, r.phase = now, o.Status.Phase
			}
		}
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    seen,
		UpdateFunc: func(_, n any) { seen(n) },
	}); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *tracker) register(name string) *orderRec {
	r := &orderRec{created: time.Now()}
	t.mu.Lock()
	t.recs[name] = r
	t.mu.Unlock()
	return r
}

// wait blocks until every named Order is terminal, or the timeout. (Whether the
// finalizer stays until deletion or goes at the end is the reconciler's choice; a
// finished Order counts as finished either way.)
func (t *tracker) wait(ctx context.Context, names []string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		t.mu.Lock()
		left := 0
		for _, n := range names {
			if t.recs[n].terminal.IsZero() {
				left++
			}
		}
		t.mu.Unlock()
		if left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d Orders not finished after %s", left, len(names), timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// runResult is one kubesaga scenario.
type runResult struct {
	Name         string  `json:"name"`
	N            int     `json:"n"`
	RefusedPct   int     `json:"refused_pct"`
	StepsPerPass int     `json:"max_steps_per_pass"`
	RatePerS     float64 `json:"offered_rate_per_s,omitempty"` // 0: as fast as possible
	CreatesPerS  float64 `json:"creates_per_s"`
	OrdersPerS   float64 `json:"orders_per_s"` // terminal Orders / (last terminal - first create)
	P50          float64 `json:"p50_ms"`
	P95          float64 `json:"p95_ms"`
	P99          float64 `json:"p99_ms"`
	Succeeded    int     `json:"succeeded"`
	Failed       int     `json:"failed"`
	Stalled      int     `json:"stalled"`
	// API writes, counted at the API server, divided by N.
	OrderWritesPerOrder  float64            `json:"writes_per_order"`
	EventWritesPerOrder  float64            `json:"event_writes_per_order"`
	ConflictsPerOrder    float64            `json:"conflicts_per_order"`
	WritesByKind         map[string]float64 `json:"writes_by_kind_per_order"`
	ManagerCPUPer1000    float64            `json:"manager_cpu_s_per_1000"`
	APIServerCPUPer1000  float64            `json:"apiserver_cpu_s_per_1000"`
	EtcdCPUPer1000       float64            `json:"etcd_cpu_s_per_1000"`
	BenchCPUPer1000      float64            `json:"bench_process_cpu_s_per_1000"` // load, watch and the real or in-memory participants
	ManagerRSSMB         float64            `json:"manager_rss_mb_after"`
	ManagerHWMMB         float64            `json:"manager_peak_rss_mb"`
	ManagerHeapInuseMB   float64            `json:"manager_heap_alloc_mb_after"`
	OrdersInCluster      int                `json:"orders_in_cluster_after"`
	ElapsedS             float64            `json:"elapsed_s"`
	ManagerCPUUtilPerCPU float64            `json:"manager_cpu_cores_busy"`
}

type env struct {
	c        client.Client
	tr       *tracker
	carts    *participants.Carts
	apiState func(context.Context) (apiWrites, error)
	mgr      *managerProc
	conc     int
}

// runOrders creates one Order per cart (rate 0: as fast as possible at e.conc) and waits
// until all are finished; it measures everything on the way.
func runOrders(ctx context.Context, e env, name string, n, refusedPct, steps int, rate float64) (runResult, error) {
	res := runResult{Name: name, N: n, RefusedPct: refusedPct, StepsPerPass: steps, RatePerS: rate}
	cartIDs, err := seedCarts(ctx, e.carts, n, e.conc, refusedPct)
	if err != nil {
		return res, err
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%05d", name, i)
	}
	w0, err := e.apiState(ctx)
	if err != nil {
		return res, err
	}
	s0, err := e.mgr.stats()
	if err != nil {
		return res, err
	}
	recs := make([]*orderRec, n)
	create := func(i int) error {
		o := &sagav1.Order{
			ObjectMeta: metav1.ObjectMeta{Name: names[i], Namespace: benchNS, Labels: map[string]string{runLabel: name}},
			Spec:       sagav1.OrderSpec{CartID: cartIDs[i], StoreID: storeID},
		}
		recs[i] = e.tr.register(names[i])
		return e.c.Create(ctx, o)
	}
	start := time.Now()
	if rate <= 0 {
		err = parallel(n, e.conc, create)
	} else {
		// Open loop: Order i is due at start + i/rate, whatever the earlier ones do.
		err = parallel(n, e.conc, func(i int) error {
			time.Sleep(time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))))
			return create(i)
		})
	}
	if err != nil {
		return res, fmt.Errorf("create orders: %w", err)
	}
	res.CreatesPerS = float64(n) / time.Since(start).Seconds()
	if err := e.tr.wait(ctx, names, 10*time.Minute); err != nil {
		return res, err
	}
	time.Sleep(500 * time.Millisecond) // let trailing Event writes land before counting
	s1, err := e.mgr.stats()
	if err != nil {
		return res, err
	}
	w1, err := e.apiState(ctx)
	if err != nil {
		return res, err
	}

	e.tr.mu.Lock()
	lat := make([]float64, n)
	var last time.Time
	for i, r := range recs {
		lat[i] = ms(r.terminal.Sub(r.created))
		if r.terminal.After(last) {
			last = r.terminal
		}
		switch r.phase {
		case sagav1.PhaseSucceeded:
			res.Succeeded++
		case sagav1.PhaseFailed:
			res.Failed++
		default:
			res.Stalled++
		}
	}
	e.tr.mu.Unlock()
	el := last.Sub(start).Seconds()
	res.ElapsedS = el
	res.OrdersPerS = float64(n) / el
	res.P50, res.P95, res.P99 = percentiles(lat)

	d := w1.delta(w0)
	fn := float64(n)
	res.OrderWritesPerOrder = d.sum(func(r, _, _ string) bool { return r == "orders" || r == "orders/status" }) / fn
	res.EventWritesPerOrder = d.sum(func(r, _, _ string) bool { return r == "events" }) / fn
	res.ConflictsPerOrder = d.sum(func(r, _, c string) bool { return (r == "orders" || r == "orders/status") && c == "409" }) / fn
	res.WritesByKind = map[string]float64{}
	for k, v := range d {
		if !strings.HasSuffix(k, " cpu_seconds") {
			res.WritesByKind[k] = v / fn
		}
	}
	res.APIServerCPUPer1000 = d[apiServerCPU] / fn * 1000
	res.EtcdCPUPer1000 = d[etcdCPU] / fn * 1000
	res.BenchCPUPer1000 = d[benchCPU] / fn * 1000
	res.ManagerCPUPer1000 = (s1.CPU - s0.CPU) / fn * 1000
	res.ManagerCPUUtilPerCPU = (s1.CPU - s0.CPU) / el
	res.ManagerRSSMB, res.ManagerHWMMB, res.ManagerHeapInuseMB = s1.RSSMB, s1.HWMMB, s1.HeapInMB
	var list sagav1.OrderList
	if err := e.c.List(ctx, &list, client.InNamespace(benchNS)); err == nil {
		res.OrdersInCluster = len(list.Items)
	}
	return res, nil
}

// writeRates measures the API server's rate for each kind of write kubesaga makes to an
// Order, on finished Orders of full size (no controller acts on them: status and label
// writes do not trigger a pass), at the load's concurrency, with client throttling off.
type writeRates struct {
	Orders           int     `json:"orders"`                   // how many finished Orders each kind was measured on
	StatusMergePatch float64 `json:"status_merge_patch_per_s"` // what the reconciler did until 2026-12
	StatusUpdate     float64 `json:"status_update_per_s"`      // PUT of the whole object: what the reconciler does
	MetaMergePatch   float64 `json:"metadata_merge_patch_per_s"`
}

func measureWrites(ctx context.Context, c client.Client, names []string, conc int) (writeRates, error) {
	var w writeRates
	objs := make([]*sagav1.Order, len(names))
	for i, n := range names {
		objs[i] = &sagav1.Order{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: benchNS, Name: n}, objs[i]); err != nil {
			return w, err
		}
	}
	variants := []func(o *sagav1.Order) error{
		func(o *sagav1.Order) error {
			patch := client.MergeFromWithOptions(o.DeepCopy(), client.MergeFromWithOptimisticLock{})
			o.Status.LastError = "bench: status merge patch"
			return c.Status().Patch(ctx, o, patch)
		},
		func(o *sagav1.Order) error {
			o.Status.LastError = ""
			return c.Status().Update(ctx, o)
		},
		func(o *sagav1.Order) error {
			patch := client.MergeFromWithOptions(o.DeepCopy(), client.MergeFromWithOptimisticLock{})
			if o.Labels == nil {
				o.Labels = map[string]string{}
			}
			o.Labels["bench.kubesaga.io/touched"] = fmt.Sprint(time.Now().UnixNano())
			return c.Patch(ctx, o, patch)
		},
	}
	// Interleaved in chunks, so that the noise of a shared machine hits every variant alike.
	spent := make([]time.Duration, len(variants))
	const chunk = 50
	for lo := 0; lo < len(objs); lo += chunk {
		part := objs[lo:min(lo+chunk, len(objs))]
		for v, f := range variants {
			start := time.Now()
			if err := parallel(len(part), conc, func(i int) error { return f(part[i]) }); err != nil {
				return w, err
			}
			spent[v] += time.Since(start)
		}
	}
	rate := func(d time.Duration) float64 { return float64(len(objs)) / d.Seconds() }
	w.Orders = len(objs)
	w.StatusMergePatch, w.StatusUpdate, w.MetaMergePatch = rate(spent[0]), rate(spent[1]), rate(spent[2])
	return w, nil
}

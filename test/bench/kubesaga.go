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
	"errors"
	"fmt"
	"log"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/cache"

	"github.com/kubesaga/kubesaga/controllers"
	"github.com/kubesaga/kubesaga/internal/participants"
)

// kubesagaRuns is the state of the kubesaga phase: the Orders' tracker and the manager
// now running.
type kubesagaRuns struct {
	*bench
	e    env
	m    *managerProc
	urls participantURLs // the participants the next manager calls
}

// steadyMaxSeconds bounds the latency run's length, so that a slow peak on a busy machine
// does not make `make bench N=500` last for ever.
const steadyMaxSeconds = 90

// apiState reads the API server's write counts and CPU, and etcd's and this process's CPU.
func (b *bench) apiState(ctx context.Context) (apiWrites, error) {
	w, err := scrapeAPIWrites(ctx, b.cs)
	if err != nil {
		return nil, err
	}
	return w, machineCPU(b.cp.Env.ControlPlane.Etcd.URL.String(), w)
}

// kubesaga runs kubesaga itself (the manager as a child process): a warmup, the peak,
// a steady rate at a fraction of the peak (profiled), refusals, and, with -steps1, the
// peak again with one step per reconcile pass on a fresh manager.
func (b *bench) kubesaga(ctx context.Context) error {
	// The floor's second window, in the same conditions as its first (no controller, no
	// admission policy), right before the runs it is compared with.
	if err := b.rep.floorWindow(ctx, b.rawCl, b.c.Conc, "rawv"); err != nil {
		return err
	}
	if err := b.emptyRawNamespace(ctx); err != nil {
		return err
	}
	// From now on the finalizer comes from the admission policy (the raw Orders had none,
	// so that nothing had to release them).
	if err := installAdmission(ctx, b.cl, admissionDir); err != nil {
		return err
	}
	inf, err := cache.New(b.cfg, cache.Options{Scheme: controllers.Scheme()})
	if err != nil {
		return err
	}
	tr, err := newTracker(ctx, inf)
	if err != nil {
		return err
	}
	go func() { _ = inf.Start(ctx) }()
	if !inf.WaitForCacheSync(ctx) {
		return errors.New("order informer did not sync")
	}
	k := &kubesagaRuns{bench: b, e: env{c: b.cl, tr: tr, carts: b.parts.Carts, conc: b.c.Conc,
		apiState: b.apiState},
		urls: urlsOf(b.svcs)}
	defer k.stopManager()
	peak, err := k.defaultSteps(ctx)
	if err != nil {
		return err
	}
	if err := k.inMemory(ctx); err != nil {
		return err
	}
	if b.c.Steps1 {
		if err := k.oneStep(ctx); err != nil {
			return err
		}
	}
	k.stopManager()
	return b.orderWriteRates(ctx, peak.N)
}

func (k *kubesagaRuns) startManager(steps int, tag string) error {
	args := []string{fmt.Sprintf("--max-concurrent-reconciles=%d", k.c.Conc), fmt.Sprintf("--max-steps-per-pass=%d", steps),
		fmt.Sprintf("--kube-api-qps=%g", k.c.QPS), fmt.Sprintf("--kube-api-burst=%d", k.c.Burst)}
	m, err := startManager(k.bin, k.rep.dir, k.kubeconfig, k.urls, args, tag)
	if err != nil {
		return err
	}
	k.m, k.e.mgr = m, m
	return nil
}

func (k *kubesagaRuns) stopManager() {
	if k.m != nil {
		k.m.stop()
		k.m = nil
	}
}

// scenario runs n Orders and keeps the result in the report unless it is a warmup.
func (k *kubesagaRuns) scenario(ctx context.Context, name string, n, refused, steps int, rate float64) (runResult, error) {
	log.Printf("kubesaga %s: %d Orders, %d%% refused, %d steps/pass, rate %s", name, n, refused, steps, rateText(rate))
	r, err := runOrders(ctx, k.e, name, n, refused, steps, rate)
	if err != nil {
		return r, err
	}
	log.Printf("  %.1f Orders/s, p50 %.0f p95 %.0f p99 %.0f ms, %.2f writes/Order (+%.2f Event writes), "+
		"CPU %.2f s/1000, RSS %.0f MB (peak %.0f)", r.OrdersPerS, r.P50, r.P95, r.P99,
		r.OrderWritesPerOrder, r.EventWritesPerOrder, r.ManagerCPUPer1000, r.ManagerRSSMB, r.ManagerHWMMB)
	if !strings.HasPrefix(name, "warmup") {
		k.rep.runs = append(k.rep.runs, r)
	}
	return r, nil
}

func (k *kubesagaRuns) memory(orders int, what string) {
	k.rep.memory = append(k.rep.memory, memPoint(k.m, orders, what))
}

// defaultSteps runs the warmup, peak, steady and refused scenarios with the default
// steps per pass, and returns the peak run.
func (k *kubesagaRuns) defaultSteps(ctx context.Context) (runResult, error) {
	c, rep := k.c, k.rep
	steps := k.defaults.MaxStepsPerPass
	if err := k.startManager(steps, fmt.Sprintf("steps%d", steps)); err != nil {
		return runResult{}, err
	}
	k.memory(0, "manager started, informer synced (empty)")
	if _, err := k.scenario(ctx, "warmup", c.Warmup, 0, steps, 0); err != nil {
		return runResult{}, err
	}
	peak, err := k.scenario(ctx, "peak", c.N, 0, steps, 0)
	if err != nil {
		return peak, err
	}
	k.memory(peak.OrdersInCluster, "after the peak run")
	// The floor's last window, right after the peak (the manager idle, and the admission
	// policy only matches Orders): the windows before and after the peak bracket it, so
	// that a drift of the machine's speed during the run weighs on both sides.
	if err := rep.floorWindow(ctx, k.rawCl, c.Conc, "rawa"); err != nil {
		return peak, err
	}
	if err := k.emptyRawNamespace(ctx); err != nil {
		return peak, err
	}

	rate := c.SteadyFactor * peak.OrdersPerS
	steadyN := max(min(c.N, int(rate*steadyMaxSeconds)), min(c.N, 100))
	profSecs := int(float64(steadyN)/rate) + 1
	profDone, apiProfDone := make(chan error, 1), make(chan error, 1)
	go func() { profDone <- rep.profile(ctx, k.m, profSecs) }()
	go func() { apiProfDone <- rep.profileAPIServer(ctx, k.cs, profSecs) }()
	steady, err := k.scenario(ctx, "steady", steadyN, 0, steps, rate)
	if err != nil {
		return peak, err
	}
	k.memory(steady.OrdersInCluster, "after the steady run")
	if err := <-profDone; err != nil {
		log.Printf("profile: %v", err)
	}
	if err := <-apiProfDone; err != nil {
		log.Printf("apiserver profile: %v", err)
	}
	refused, err := k.scenario(ctx, "refused", c.N, c.RefusedPct, steps, 0)
	if err != nil {
		return peak, err
	}
	k.memory(refused.OrdersInCluster, "after the refused run")
	rep.orderJSONBytes = orderSize(ctx, k.cl)
	rep.cachedOrderBytes = cachedOrderBytes(ctx, k.cl)
	rep.statusBytes, rep.managedFields = statusSize(ctx, k.cl, "peak")
	return peak, nil
}

// inMemory runs kubesaga against the in-memory participant on a fresh manager: the
// coordinator's cost alone, without and with refusals.
func (k *kubesagaRuns) inMemory(ctx context.Context) error {
	k.stopManager()
	im, err := startInmemParticipant()
	if err != nil {
		return err
	}
	defer im.close()
	po := participants.Options{Timeout: k.defaults.StepTimeout, MaxIdleConnsPerHost: 2 * k.c.Conc}
	carts, err := participants.NewCarts(im.url, participants.NewHTTPClient(po), po)
	if err != nil {
		return err
	}
	realCarts, realURLs := k.e.carts, k.urls
	defer func() { k.e.carts, k.urls = realCarts, realURLs }()
	k.e.carts, k.urls = carts, participantURLs{im.url, im.url, im.url}
	steps := k.defaults.MaxStepsPerPass
	if err := k.startManager(steps, "inmem"); err != nil {
		return err
	}
	defer k.stopManager()
	w, err := k.scenario(ctx, "warmup-inmem", k.c.Warmup, 0, steps, 0)
	if err != nil {
		return err
	}
	k.memory(w.OrdersInCluster, "a fresh manager (in-memory participants), after its warmup")
	if _, err := k.scenario(ctx, "inmem", k.c.N, 0, steps, 0); err != nil {
		return err
	}
	_, err = k.scenario(ctx, "inmem-refused", k.c.N, k.c.RefusedPct, steps, 0)
	return err
}

// oneStep runs the peak again on a fresh manager with --max-steps-per-pass=1.
func (k *kubesagaRuns) oneStep(ctx context.Context) error {
	k.stopManager()
	if err := k.startManager(1, "steps1"); err != nil {
		return err
	}
	w, err := k.scenario(ctx, "warmup-steps1", k.c.Warmup, 0, 1, 0)
	if err != nil {
		return err
	}
	k.memory(w.OrdersInCluster, "a fresh manager (1 step/pass), after its warmup")
	_, err = k.scenario(ctx, "peak-steps1", k.c.N, 0, 1, 0)
	return err
}

// orderWriteRates measures the API server's rate for each kind of Order write, on the
// peak run's n finished Orders, with the manager stopped, through the unthrottled client
// (a throttled one would measure its own limiter).
func (b *bench) orderWriteRates(ctx context.Context, n int) error {
	names := make([]string, min(n, 500))
	for i := range names {
		names[i] = fmt.Sprintf("peak-%05d", i)
	}
	log.Printf("Order write rates on %d finished Orders (manager stopped)", len(names))
	var err error
	if b.rep.writes, err = measureWrites(ctx, b.rawCl, names, b.c.Conc); err != nil {
		return err
	}
	log.Printf("  status merge patch %.0f/s, status update %.0f/s, metadata merge patch %.0f/s",
		b.rep.writes.StatusMergePatch, b.rep.writes.StatusUpdate, b.rep.writes.MetaMergePatch)
	return nil
}

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

package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/dev/devstack"
)

// Settings of the run. The short form (go test ./...) runs 60 Orders; `make chaos`
// sets KUBESAGA_CHAOS_ORDERS=500. KUBESAGA_CHAOS_SEED replays a run's faults.
const (
	defaultOrders = 60
	stepTimeout   = time.Second
	// slowDelay is what the slowed service's proxy adds to every chunk: past the step
	// timeout, so that every call to it times out while it lasts.
	slowDelay = 1500 * time.Millisecond
	// fullForm is the size from which a run is `make chaos`'s full form, which adds an
	// outage after the pivot longer than the attempt budget: stocks' commit answers 503
	// for outageAfterPivot, well past --max-attempts=40 at a backoff of at most 1 s.
	fullForm         = 300
	outageAfterPivot = 60 * time.Second
)

// managerArgs ride out outages of several seconds (attempts x capped backoff + step
// timeout is far above the longest fault) so that nothing is refused for a fault and
// nothing stalls.
func managerArgs() []string {
	return []string{
		"--step-timeout=" + stepTimeout.String(),
		"--backoff-base=100ms", "--backoff-max=1s",
		"--max-attempts=40", "--compensation-max-attempts=60",
		"--max-concurrent-reconciles=8",
	}
}

func envInt(t *testing.T, key string, def int64) int64 {
	t.Helper()
	s := os.Getenv(key)
	if s == "" {
		return def
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		t.Fatalf("%s=%q: want a positive integer", key, s)
	}
	return v
}

// fault is one action of the chaos schedule.
type fault struct {
	kind   string // kill, slow, or commit (stocks' commit answers 503)
	target string
	down   time.Duration // how long the process stays dead, or the service slow
}

func (f fault) String() string {
	if f.kind == "commit" {
		return fmt.Sprintf("%s commit answers 503 for %s (after the pivot, past the attempt budget)", f.target, f.down)
	}
	if f.kind == "slow" {
		return fmt.Sprintf("slow %s (+%s per chunk) for %s", f.target, slowDelay, f.down.Round(time.Millisecond))
	}
	return fmt.Sprintf("SIGKILL %s, down %s", f.target, f.down.Round(time.Millisecond))
}

// schedule draws the faults of a run of n Orders: the operator killed at random
// moments, each service killed at least once, one service slowed at least once.
func schedule(rng *rand.Rand, n int) []fault {
	managerKills, rounds := max(2, n/100), 1+n/300
	fs := make([]fault, 0, managerKills+rounds*(len(devstack.Services)+1))
	for range managerKills {
		fs = append(fs, fault{kind: "kill", target: devstack.Manager, down: time.Duration(200+rng.IntN(1300)) * time.Millisecond})
	}
	for range rounds {
		for _, s := range devstack.Services {
			fs = append(fs, fault{kind: "kill", target: s, down: time.Duration(500+rng.IntN(1500)) * time.Millisecond})
		}
		fs = append(fs, fault{kind: "slow", target: devstack.Services[rng.IntN(len(devstack.Services))],
			down: time.Duration(3000+rng.IntN(2000)) * time.Millisecond})
	}
	if n >= fullForm {
		fs = append(fs, fault{kind: "commit", target: devstack.Stocks, down: outageAfterPivot})
	}
	rng.Shuffle(len(fs), func(i, j int) { fs[i], fs[j] = fs[j], fs[i] })
	return fs
}

// inject runs the faults one after the other, fault i at a random moment of the i-th
// slice of window (or at once if the previous one ran late), and brings every process
// back before it returns.
func inject(ctx context.Context, t *testing.T, s *devstack.Stack, rng *rand.Rand, faults []fault, window time.Duration, w *workload) error {
	start := time.Now()
	slice := window / time.Duration(len(faults))
	for i, f := range faults {
		at := time.Duration(i)*slice + time.Duration(rng.Int64N(int64(slice)))
		if d := time.Until(start.Add(at)); d > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(d):
			}
		}
		t.Logf("chaos: %6.1fs %d/%d Orders created: %s", time.Since(start).Seconds(), w.created.Load(), len(w.orders), f)
		switch f.kind {
		case "commit":
			s.Proxy(f.target).FailRoute(http.MethodPost, "/api/reservations/*/commit", http.StatusServiceUnavailable, f.down)
			time.Sleep(f.down)
		case "slow":
			px := s.Proxy(f.target)
			px.SetDelay(slowDelay)
			time.Sleep(f.down)
			px.SetDelay(0)
		case "kill":
			if err := s.Kill(f.target, syscall.SIGKILL); err != nil {
				return err
			}
			time.Sleep(f.down)
			if err := s.Restart(ctx, f.target); err != nil {
				return err
			}
		}
	}
	return nil
}

func TestChaos(t *testing.T) {
	n := int(envInt(t, "KUBESAGA_CHAOS_ORDERS", defaultOrders))
	k := int(envInt(t, "KUBESAGA_CHAOS_SAGAS", defaultSagas(n)))
	seed := uint64(envInt(t, "KUBESAGA_CHAOS_SEED", time.Now().UnixNano()&0x7fffffffffff))
	fmt.Printf("chaos: seed=%d orders=%d sagas=%d (replay: KUBESAGA_CHAOS_SEED=%d KUBESAGA_CHAOS_ORDERS=%d KUBESAGA_CHAOS_SAGAS=%d)\n",
		seed, n, k, seed, n, k)
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()

	dir := filepath.Join(env.tmp, "chaos")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	tokenFile := writeToken(t, dir)
	s, err := devstack.Start(ctx, devstack.Options{
		Dir: filepath.Join(dir, "stack"), BinDir: env.binDir, Kubeconfig: env.kubeconfig,
		ManagerArgs: managerArgs(), TokenFile: tokenFile, Proxied: devstack.Services,
		Log: testLog{t},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stopStack(t, s)

	// n Orders and k Sagas of the checkout template, mixed, on the same stock.
	w := planWorkload(rng, "chaos", n+k, 401)
	w.withSagas(rng, k)
	w.setUp(ctx, t, s, tokenFile)
	w.declareSagas(ctx, t, s)
	faults := schedule(rng, n)
	// A steady pace: the short form spreads its Orders over about 20 s, the full one
	// creates one every 100 ms.
	pace := max(100*time.Millisecond, 20*time.Second/time.Duration(n+k))
	window := pace * time.Duration(n+k)
	t.Logf("chaos: %d Orders and %d Sagas (%d greedy) at one every %s, %d faults over %s", n, k, w.greedy(), pace, len(faults), window)

	start := time.Now()
	injected := make(chan error, 1)
	go func() { injected <- inject(ctx, t, s, rng, faults, window, w) }()
	if err := w.create(ctx, pace); err != nil {
		t.Error(err)
	}
	if err := <-injected; err != nil {
		t.Fatalf("chaos: fault injection: %v", err)
	}
	// Every process back (the last fault restarted its victim).
	readyCtx, cancelReady := context.WithTimeout(ctx, 30*time.Second)
	for s.Ready(readyCtx) != nil && readyCtx.Err() == nil {
		time.Sleep(200 * time.Millisecond)
	}
	if err := s.Ready(readyCtx); err != nil {
		t.Errorf("chaos: not every process is back: %v", err)
	}
	cancelReady()
	faultsDone := time.Since(start)

	orders := w.drain(ctx, t, 3*time.Minute+time.Duration(n+k)*300*time.Millisecond)
	elapsed := time.Since(start)
	v := w.check(ctx, t, orders)
	for _, name := range devstack.Services {
		accepted, delayed := s.Proxy(name).Stats()
		t.Logf("chaos: proxy of %s: %d connections, %d chunks delayed", name, accepted, delayed)
	}
	fmt.Printf("chaos: Orders that retried a step (the faults bit): %d\n", retried(orders))
	fmt.Printf("chaos: faults=%d over %s, all Orders ended %s after the first was created; expected refusals=%d refused_servable=%d served_greedy=%d missing_sales=%d sales_of_failed=%d orphan_sales=%d\n",
		len(faults), faultsDone.Round(time.Millisecond), elapsed.Round(time.Millisecond), w.greedy(),
		v.refusedServable, v.servedGreedy, v.missingSales, v.salesOfFailed, v.orphanSales)
	if !v.ok() {
		w.report(ctx, t, v, orders)
		t.Errorf("chaos: invariants broken (seed %d); see the problems above", seed)
	}
	fmt.Println(v.line("chaos"))
}

// retried counts the Orders in which some step or compensation took more than one attempt.
func retried(orders []sagav1.Order) int {
	n := 0
	for i := range orders {
		for _, st := range orders[i].Status.Steps {
			if st.Attempts > 1 || st.CompensationAttempts > 1 {
				n++
				break
			}
		}
	}
	return n
}

// testLog sends devstack's progress lines to the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(string(trimNL(b)))
	return len(b), nil
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == '\n' {
		b = b[:len(b)-1]
	}
	return b
}

func stopStack(t *testing.T, s *devstack.Stack) {
	t.Helper()
	if err := s.Stop(); err != nil {
		t.Error(err)
	}
	if left := devstack.Leftovers(s.Dir()); len(left) > 0 {
		t.Errorf("processes left behind: %v", left)
	}
}

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
	"log"
	"sync/atomic"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubesaga/kubesaga/controllers"
)

// The floor is what the API server itself takes: creates through a client without any
// client-side rate limit, at the load's concurrency, for a fixed time rather than a fixed
// count, so that neither a client burst nor the run's N moves it.
const floorWindow = 8 * time.Second

// unthrottledClient is a client with client-side throttling off: no token bucket at all
// (a limiter that never waits), so only the API server (and its priority and fairness)
// sets the pace.
func unthrottledClient(cfg *rest.Config) (client.Client, error) {
	u := rest.CopyConfig(cfg)
	u.QPS, u.Burst = -1, 0
	u.RateLimiter = flowcontrol.NewFakeAlwaysRateLimiter()
	return client.New(u, client.Options{Scheme: controllers.Scheme()})
}

// floorResult is the raw create rate over a window.
type floorResult struct {
	PerS    float64 `json:"creates_per_s"`
	Created int     `json:"created"`
	Seconds float64 `json:"seconds"`
}

// createFor creates objects at conc for d (after a warmup of a second that is not
// counted) and returns the rate. obj(i) must give distinct names for distinct i.
func createFor(ctx context.Context, c client.Client, conc int, d time.Duration, obj func(i int) client.Object) (floorResult, error) {
	var seq, counted atomic.Int64
	var counting atomic.Bool
	stop := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- parallel(conc, conc, func(int) error {
			for {
				select {
				case <-stop:
					return nil
				default:
				}
				if err := c.Create(ctx, obj(int(seq.Add(1)))); err != nil {
					return fmt.Errorf("raw create: %w", err)
				}
				if counting.Load() {
					counted.Add(1)
				}
			}
		})
	}()
	select {
	case err := <-errc:
		return floorResult{}, err
	case <-time.After(time.Second):
	}
	counting.Store(true)
	start := time.Now()
	select {
	case err := <-errc:
		return floorResult{}, err
	case <-time.After(d):
	}
	counting.Store(false)
	n, el := counted.Load(), time.Since(start)
	close(stop)
	if err := <-errc; err != nil {
		return floorResult{}, err
	}
	return floorResult{PerS: float64(n) / el.Seconds(), Created: int(n), Seconds: el.Seconds()}, nil
}

// floorWindow measures the floor once more (ConfigMap creates with throttling off for
// floorWindow, names prefix-NNNNNNN) and pools it with the earlier windows: the floor is
// the rate over all of them. The machine's own rate moves between windows (other work,
// the kernel), so the run measures it at the start, right before kubesaga's peak and
// right after it, rather than trusting one window.
func (rep *report) floorWindow(ctx context.Context, unthrottled client.Client, conc int, prefix string) error {
	log.Printf("raw floor (window %d): ConfigMap creates for %s at concurrency %d, client throttling off",
		len(rep.floorWindows)+1, floorWindow, conc)
	w, err := createFor(ctx, unthrottled, conc, floorWindow, func(i int) client.Object {
		o := rawConfigMap(i)
		o.SetName(fmt.Sprintf("%s-%07d", prefix, i))
		return o
	})
	if err != nil {
		return err
	}
	rep.floorWindows = append(rep.floorWindows, w)
	var pooled floorResult
	for _, w := range rep.floorWindows {
		pooled.Created += w.Created
		pooled.Seconds += w.Seconds
	}
	pooled.PerS = float64(pooled.Created) / pooled.Seconds
	rep.floor = pooled
	log.Printf("raw floor: %.0f ConfigMaps/s in this window, %.0f over the %d windows", w.PerS, pooled.PerS, len(rep.floorWindows))
	return nil
}

// measureFloor measures, before any controller runs: the floor (ConfigMap creates with
// throttling off), Order creates with throttling off (the CRD's schema and CEL rules
// included), and, labelled as such, N ConfigMap creates through a client with the
// manager's QPS/burst, the figure earlier runs called the floor.
func (rep *report) measureFloor(ctx context.Context, throttled, unthrottled client.Client, c config) error {
	if err := rep.floorWindow(ctx, unthrottled, c.Conc, "rawu"); err != nil {
		return err
	}
	var err error
	// The first Orders after the CRD is installed wait for the API server to finish setting
	// it up (storage, OpenAPI, CEL): warm that path before timing it.
	if _, err := rawCreates(ctx, unthrottled, 50, c.Conc, func(i int) client.Object { return rawOrder(3_000_000 + i) }); err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	log.Printf("raw Order creates for %s at concurrency %d, client throttling off, no controller", floorWindow, c.Conc)
	if rep.floorOrders, err = createFor(ctx, unthrottled, c.Conc, floorWindow, rawOrder); err != nil {
		return err
	}
	log.Printf("throttled: %d ConfigMaps at concurrency %d, QPS %g burst %d", c.N, c.Conc, c.QPS, c.Burst)
	if rep.rawCM, err = rawCreates(ctx, throttled, c.N, c.Conc, rawConfigMap); err != nil {
		return err
	}
	log.Printf("raw: %.0f ConfigMaps/s and %.0f Orders/s unthrottled; %.0f ConfigMaps/s throttled (N=%d)",
		rep.floor.PerS, rep.floorOrders.PerS, rep.rawCM, c.N)
	return nil
}

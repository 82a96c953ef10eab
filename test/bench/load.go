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
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/ordersaga"
	"github.com/kubesaga/kubesaga/internal/participants"
	"github.com/kubesaga/kubesaga/internal/saga"
)

const (
	storeID       = 101
	productOK     = 501 // stock large enough for every cart
	productScarce = 502 // stock 0: a cart with it is refused at ReserveStock
	unitPrice     = "12.50"
	runLabel      = "bench.kubesaga.io/run"
	benchNS       = "bench"
	rawNS         = "bench-raw"
)

// parallel runs f(i) for i in [0,n) on conc workers and returns the first error.
func parallel(n, conc int, f func(i int) error) error {
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

// refusedAt says whether order i of a run with refusedPct percent refusals is refused.
func refusedAt(i, refusedPct int) bool {
	return refusedPct > 0 && (i*refusedPct)%100+refusedPct > 99 // spreads the refused ones evenly
}

// seedCarts creates n OPEN carts through the carts service, one line each.
func seedCarts(ctx context.Context, c *participants.Carts, n, conc, refusedPct int) ([]string, error) {
	ids := make([]string, n)
	err := parallel(n, conc, func(i int) error {
		id := uuid.NewString()
		product := int64(productOK)
		if refusedAt(i, refusedPct) {
			product = productScarce
		}
		if _, err := c.Create(ctx, id, storeID, []participants.Line{{ProductID: product, Quantity: 1, UnitPrice: unitPrice}}); err != nil {
			return fmt.Errorf("seed cart: %w", err)
		}
		ids[i] = id
		return nil
	})
	return ids, err
}

// rawCreates creates n trivial objects at conc and returns creates/s.
func rawCreates(ctx context.Context, c client.Client, n, conc int, obj func(i int) client.Object) (float64, error) {
	start := time.Now()
	err := parallel(n, conc, func(i int) error { return c.Create(ctx, obj(i)) })
	return float64(n) / time.Since(start).Seconds(), err
}

func rawConfigMap(i int) client.Object {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("raw-%06d", i), Namespace: rawNS},
		Data: map[string]string{"cartId": uuid.NewString(), "storeId": "101"}}
}

func rawOrder(i int) client.Object {
	return &sagav1.Order{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("raw-%06d", i), Namespace: rawNS},
		Spec: sagav1.OrderSpec{CartID: uuid.NewString(), StoreID: storeID}}
}

// directResult is the direct baseline: the saga driven by internal/saga, no Kubernetes.
type directResult struct {
	SagasPerS          float64
	P50, P95, P99      float64 // ms
	Succeeded, Refused int
}

func direct(ctx context.Context, p ordersaga.Participants, policy saga.Policy, cartIDs []string, conc int) (directResult, error) {
	def := ordersaga.Definition(policy)
	lat := make([]float64, len(cartIDs))
	var ok, refused atomic.Int64
	start := time.Now()
	err := parallel(len(cartIDs), conc, func(i int) error {
		t0 := time.Now()
		in := ordersaga.Input{OrderID: uuid.NewString(), CartID: cartIDs[i], StoreID: storeID}
		st := saga.State{Steps: make([]saga.StepState, len(def.Steps))}
		for j := range def.Steps {
			st.Steps[j] = saga.StepState{Name: def.Steps[j].Name, Status: saga.StepPending}
		}
		var out ordersaga.Output
		for {
			now := time.Now()
			act := saga.Next(def, st, now)
			switch act.Type {
			case saga.ActFinish:
				lat[i] = ms(time.Since(t0))
				if act.Result == saga.ResultSucceeded {
					ok.Add(1)
				} else {
					refused.Add(1)
				}
				return nil
			case saga.ActWait:
				time.Sleep(time.Until(act.Until))
				continue
			case saga.ActStall:
				return fmt.Errorf("direct saga stalled at %s: %s", act.Name, act.Reason)
			}
			err := ordersaga.Call(ctx, p, act, in, &out)
			o := saga.Outcome{Class: saga.Success}
			switch {
			case err == nil:
			case participants.IsRefusal(err):
				o = saga.Outcome{Class: saga.Refusal, Err: err.Error()}
			default:
				o = saga.Outcome{Class: saga.Transient, Err: err.Error()}
			}
			st = saga.Record(def, st, act, o, time.Now())
		}
	})
	el := time.Since(start)
	r := directResult{SagasPerS: float64(len(cartIDs)) / el.Seconds(), Succeeded: int(ok.Load()), Refused: int(refused.Load())}
	r.P50, r.P95, r.P99 = percentiles(lat)
	return r, err
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func percentiles(v []float64) (p50, p95, p99 float64) {
	if len(v) == 0 {
		return
	}
	s := slices.Clone(v)
	slices.Sort(s)
	at := func(q float64) float64 {
		i := int(math.Ceil(q*float64(len(s)))) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return at(0.50), at(0.95), at(0.99)
}

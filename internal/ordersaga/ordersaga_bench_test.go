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

package ordersaga_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kubesaga/kubesaga/internal/dev/inprocess"
	"github.com/kubesaga/kubesaga/internal/ordersaga"
	"github.com/kubesaga/kubesaga/internal/participants"
	"github.com/kubesaga/kubesaga/internal/saga"
)

// One whole Order saga per iteration, driven as the reconciler drives it (saga.Next,
// ordersaga.Call, saga.Record), against the three real services over loopback HTTP with
// keep-alive, on real SQLite files: the direct baseline of make bench, in small. The
// allocation counts include the services' side (same process).
//
//	go test -run '^$' -bench . -benchmem ./internal/ordersaga

func benchStack(b *testing.B) (ordersaga.Participants, *participants.Carts) {
	b.Helper()
	po := participants.Options{Timeout: 5 * time.Second}
	parts, err := inprocess.SetForTest(b).Clients(po)
	if err != nil {
		b.Fatal(err)
	}
	cartsAPI, stocksAPI := parts.Carts, parts.Stocks
	ctx := context.Background()
	for _, p := range []struct{ id, qty int64 }{{501, 1_000_000}, {502, 0}} {
		if _, err := stocksAPI.SetStock(ctx, 101, p.id, p.qty); err != nil {
			b.Fatal(err)
		}
	}
	return parts, cartsAPI
}

func benchSaga(b *testing.B, product int64, want saga.Result, conc int) {
	p, cartsAPI := benchStack(b)
	ctx := context.Background()
	def := ordersaga.Definition(saga.Policy{MaxAttempts: 5, CompensationMaxAttempts: 10, BackoffBase: time.Second, BackoffMax: time.Minute})
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = uuid.NewString()
		if _, err := cartsAPI.Create(ctx, ids[i], 101, []participants.Line{{ProductID: product, Quantity: 1, UnitPrice: "12.50"}}); err != nil {
			b.Fatal(err)
		}
	}
	orders := make([]string, b.N)
	for i := range orders {
		orders[i] = uuid.NewString()
	}
	one := func(i int) error {
		in := ordersaga.Input{OrderID: orders[i], CartID: ids[i], StoreID: 101}
		st := saga.State{}
		var out ordersaga.Output
		for {
			now := time.Now()
			act := saga.Next(def, st, now)
			if act.Type == saga.ActFinish {
				if act.Result != want {
					return fmt.Errorf("saga finished %s, want %s", act.Result, want)
				}
				return nil
			}
			if act.Type != saga.ActDo && act.Type != saga.ActUndo {
				return fmt.Errorf("unexpected action %+v", act)
			}
			o := saga.Outcome{Class: saga.Success}
			if err := ordersaga.Call(ctx, p, act, in, &out); err != nil {
				if !participants.IsRefusal(err) {
					return err
				}
				o = saga.Outcome{Class: saga.Refusal, Err: err.Error()}
			}
			st = saga.Record(def, st, act, o, now)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU(b)
	// conc sagas at a time, as the manager's reconciles run them: the services then see
	// concurrent writes, as in make bench.
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conc)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < b.N; i = int(next.Add(1)) - 1 {
				if err := one(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// processCPU is the process's user and system CPU time so far: the services' and the
// coordinator's together, the figure that decides a saturated machine's throughput.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSagaSucceeded: LockCart, ReserveStock, CreateSale, CommitReservation, CheckoutCart.
func BenchmarkSagaSucceeded(b *testing.B) { benchSaga(b, 501, saga.ResultSucceeded, 1) }

// BenchmarkSagaSucceeded16: the same, 16 sagas at a time (the manager's default
// --max-concurrent-reconciles).
func BenchmarkSagaSucceeded16(b *testing.B) { benchSaga(b, 501, saga.ResultSucceeded, 16) }

// BenchmarkSagaRefused: LockCart, ReserveStock refused (no stock), UnlockCart.
func BenchmarkSagaRefused(b *testing.B) { benchSaga(b, 502, saga.ResultCompensated, 1) }

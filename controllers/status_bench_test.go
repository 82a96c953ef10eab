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

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/ordersaga"
	"github.com/kubesaga/kubesaga/internal/saga"
)

// The reconciler's own CPU per pass, outside the API and participant calls: loading the
// engine's state from status, storing it back, comparing, and computing the merge patch
// of the status write. Run with: go test -run '^$' -bench . -benchmem ./controllers

var benchPolicy = saga.Policy{MaxAttempts: 5, CompensationMaxAttempts: 10, BackoffBase: time.Second, BackoffMax: time.Minute}

// benchOrders returns an Order as written at the pivot checkpoint and the same Order as
// written at the end of the saga: the two status writes of a successful Order.
func benchOrders() (atPivot, final *sagav1.Order) {
	def := ordersaga.Definition(benchPolicy)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	o := &sagav1.Order{
		ObjectMeta: metav1.ObjectMeta{Name: "order-1", Namespace: "default", UID: "0b4c7a2e-5d1f-4c3e-9a8b-7f6e5d4c3b2a",
			ResourceVersion: "4711", Generation: 1, CreationTimestamp: metav1.NewTime(t0), Finalizers: []string{sagav1.Finalizer}},
		Spec: sagav1.OrderSpec{CartID: "5f0e4c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b", StoreID: 101},
	}
	o.Status.StartedAt = &metav1.Time{Time: t0}
	appendHistory(o, "ORDER_CREATED", t0, "")
	st := sagaState(def, o)
	out := ordersaga.Output{ReservationID: string(o.UID), SaleID: string(o.UID), Total: "37.50"}
	run := func(upTo int) {
		for {
			act := saga.Next(def, st, t0)
			if act.Type != saga.ActDo || act.Step >= upTo {
				break
			}
			st = saga.Record(def, st, act, saga.Outcome{Class: saga.Success}, t0)
			appendHistory(o, def.Steps[act.Step].DoneEvent, t0, "")
		}
		act := saga.Next(def, st, t0)
		setConditions(o, saga.StatusAt(def, st, t0), act)
		storeSagaState(st, out, o)
	}
	run(3) // LockCart, ReserveStock, CreateSale: the pivot checkpoint
	atPivot = o.DeepCopy()
	run(len(def.Steps))
	appendHistory(o, "COMPLETED", t0, "")
	return atPivot, o
}

// BenchmarkStatusRoundTrip is what every pass does around the engine: status -> state,
// state -> status, and the change check before the write.
func BenchmarkStatusRoundTrip(b *testing.B) {
	def := ordersaga.Definition(benchPolicy)
	_, final := benchOrders()
	before := final.DeepCopy()
	b.ReportAllocs()
	for b.Loop() {
		st := sagaState(def, final)
		storeSagaState(st, sagaOutput(final), final)
		if !equality.Semantic.DeepEqual(before.Status, final.Status) {
			b.Fatal("round trip changed the status")
		}
	}
}

// BenchmarkStatusMergePatch computes the body of the final status write (the reconciler's
// client.MergeFromWithOptimisticLock patch), a hot spot of the manager's CPU profile.
func BenchmarkStatusMergePatch(b *testing.B) {
	atPivot, final := benchOrders()
	b.ReportAllocs()
	for b.Loop() {
		patch := client.MergeFromWithOptions(atPivot, client.MergeFromWithOptimisticLock{})
		if _, err := patch.Data(final); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDeepCopyOrder is the copy the reconciler takes of every Order it reads
// (scope.before) and of every Order it patches.
func BenchmarkDeepCopyOrder(b *testing.B) {
	_, final := benchOrders()
	b.ReportAllocs()
	for b.Loop() {
		_ = final.DeepCopy()
	}
}

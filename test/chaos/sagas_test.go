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
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/yaml"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/dev/devstack"
)

// Sagas run beside the Orders of the chaos test: Sagas of the shipped Order-saga template
// (config/samples/saga_v1alpha1_sagatemplate_checkout.yaml) on the same services, under
// the same faults, checked against the same invariants. The short form runs a few; `make
// chaos` sets KUBESAGA_CHAOS_SAGAS.
const (
	checkoutTemplate = "checkout"
	// tokenSecret holds the services' bearer token for the Participants (tokenSecretRef).
	tokenSecret = "chaos-participant-token"
	kindSaga    = "Saga"
)

// defaultSagas is the number of Sagas of a run of n items when KUBESAGA_CHAOS_SAGAS is unset.
func defaultSagas(n int) int64 { return int64(max(6, n/10)) }

// withSagas turns k planned Orders, drawn at random, into Sagas of the checkout template:
// same carts, same stock, so the workload's sizing and its greedy share still hold. A
// greedy one and a servable one come first, so that even a few Sagas are both
// compensated and completed under the faults.
func (w *workload) withSagas(rng *rand.Rand, k int) {
	perm := rng.Perm(len(w.orders))
	for pos, greedy := range []bool{true, false} {
		for i := pos; i < len(perm); i++ {
			if w.orders[perm[i]].greedy == greedy {
				perm[pos], perm[i] = perm[i], perm[pos]
				break
			}
		}
	}
	for i, j := range perm[:min(k, len(perm))] {
		w.orders[j].saga = true
		w.orders[j].name = fmt.Sprintf("%s-saga-%04d", w.run, i)
	}
}

func (w *workload) sagas() int {
	n := 0
	for _, o := range w.orders {
		if o.saga {
			n++
		}
	}
	return n
}

// declareSagas declares the (proxied) services as Participants, with the token in a
// Secret and the Orders' step timeout, then applies the shipped checkout template in the
// workload's namespace and waits until its controller finds it valid.
func (w *workload) declareSagas(ctx context.Context, t *testing.T, s *devstack.Stack) {
	t.Helper()
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: tokenSecret, Namespace: w.ns}}
	if _, err := controllerutil.CreateOrUpdate(ctx, w.k8s, sec, func() error {
		sec.StringData = map[string]string{"token": w.token}
		return nil
	}); err != nil {
		t.Fatalf("token secret: %v", err)
	}
	for _, name := range devstack.Services {
		url := s.URL(name)
		if px := s.Proxy(name); px != nil {
			url = px.URL() // the manager's way to the service: the faults apply to Sagas too
		}
		p := &sagav1.Participant{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if _, err := controllerutil.CreateOrUpdate(ctx, w.k8s, p, func() error {
			p.Spec = sagav1.ParticipantSpec{
				URL:            url,
				TokenSecretRef: &sagav1.SecretKeyRef{Namespace: w.ns, Name: tokenSecret, Key: "token"},
				Timeout:        &metav1.Duration{Duration: stepTimeout},
			}
			return nil
		}); err != nil {
			t.Fatalf("participant %s: %v", name, err)
		}
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "config", "samples", "saga_v1alpha1_sagatemplate_checkout.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &sagav1.SagaTemplate{}
	if err := yaml.UnmarshalStrict(b, tmpl); err != nil {
		t.Fatalf("the shipped checkout template: %v", err)
	}
	if tmpl.Name != checkoutTemplate {
		t.Fatalf("the shipped checkout template is named %q, want %q", tmpl.Name, checkoutTemplate)
	}
	tmpl.Namespace = w.ns
	if err := w.k8s.Create(ctx, tmpl); err != nil {
		t.Fatalf("create the checkout template: %v", err)
	}
	deadline := time.Now().Add(time.Minute) // a bound for a broken run
	for {
		if err := w.k8s.Get(ctx, client.ObjectKeyFromObject(tmpl), tmpl); err != nil {
			t.Fatal(err)
		}
		if meta.IsStatusConditionTrue(tmpl.Status.Conditions, sagav1.ConditionValid) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the checkout template is not Valid: %+v", tmpl.Status.Conditions)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// newSaga is the Saga of a planned item: the checkout template over its cart.
func (w *workload) newSaga(o plannedOrder) (*sagav1.Saga, error) {
	in, err := json.Marshal(map[string]any{"cartId": o.cart, "storeId": w.store})
	if err != nil {
		return nil, err
	}
	return &sagav1.Saga{
		ObjectMeta: metav1.ObjectMeta{Name: o.name, Namespace: w.ns, Labels: map[string]string{runLabel: w.run}},
		Spec: sagav1.SagaSpec{
			TemplateRef: sagav1.TemplateRef{Name: checkoutTemplate},
			Input:       &runtime.RawExtension{Raw: in},
		},
	}, nil
}

// listSagas returns the workload's Sagas in the Order's shape: their statuses share the
// fields the checks read (phase, conditions, steps, history, lastError). Kind tells them
// apart; the cart comes from the input.
func (w *workload) listSagas(ctx context.Context) ([]sagav1.Order, error) {
	var l sagav1.SagaList
	if err := w.k8s.List(ctx, &l, client.InNamespace(w.ns), client.MatchingLabels{runLabel: w.run}); err != nil {
		return nil, err
	}
	out := make([]sagav1.Order, 0, len(l.Items))
	for i := range l.Items {
		sg := &l.Items[i]
		var in struct {
			CartID string `json:"cartId"`
		}
		if sg.Spec.Input != nil {
			_ = json.Unmarshal(sg.Spec.Input.Raw, &in)
		}
		out = append(out, sagav1.Order{
			TypeMeta:   metav1.TypeMeta{Kind: kindSaga},
			ObjectMeta: sg.ObjectMeta,
			Spec:       sagav1.OrderSpec{CartID: in.CartID, StoreID: w.store},
			Status: sagav1.OrderStatus{
				Phase: sg.Status.Phase, CurrentStep: sg.Status.CurrentStep, Steps: sg.Status.Steps,
				LastError: sg.Status.LastError, History: sg.Status.History, Conditions: sg.Status.Conditions,
				SaleID: sg.Status.Outputs["saleId"], Total: sg.Status.Outputs["total"],
			},
		})
	}
	return out, nil
}

// historyProblem says what is wrong with a finished saga's log, or "": a success ends
// COMPLETED after SALE_CREATED; a failure ends COMPENSATED, FAILED and has no sale.
func historyProblem(o *sagav1.Order) string {
	h := o.Status.History
	events := make([]string, len(h))
	for i, e := range h {
		events[i] = e.Event
	}
	has := func(ev string) bool {
		for _, e := range events {
			if e == ev {
				return true
			}
		}
		return false
	}
	endsWith := func(tail ...string) bool {
		if len(events) < len(tail) {
			return false
		}
		for i, ev := range tail {
			if events[len(events)-len(tail)+i] != ev {
				return false
			}
		}
		return true
	}
	// A log shorter than its bound still holds its first entry: the start.
	if len(events) > 0 && len(events) < sagav1.MaxHistory && events[0] != sagav1.HistoryOrderCreated {
		return fmt.Sprintf("history starts with %s, want %s: %v", events[0], sagav1.HistoryOrderCreated, events)
	}
	switch o.Status.Phase {
	case sagav1.PhaseSucceeded:
		if !endsWith(sagav1.HistoryCompleted) || !has(sagav1.HistorySaleCreated) {
			return fmt.Sprintf("Succeeded, yet history is %v", events)
		}
	case sagav1.PhaseFailed:
		if !endsWith(sagav1.HistoryCompensated, sagav1.HistoryFailed) || has(sagav1.HistorySaleCreated) && !has(sagav1.HistorySaleCancelled) {
			return fmt.Sprintf("Failed, yet history is %v", events)
		}
	}
	return ""
}

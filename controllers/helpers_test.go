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

package controllers_test

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/participants"
)

const testNamespace = "default"

var productSeq atomic.Int64

// newProduct returns a product id no other spec uses, with its stock set, so that specs
// can assert exact stock levels.
func newProduct(storeID, stock int64) int64 {
	id := 10_000 + productSeq.Add(1)
	_, err := stocksAPI.SetStock(ctx, storeID, id, stock)
	Expect(err).NotTo(HaveOccurred())
	return id
}

// newCart creates an OPEN cart with one line.
func newCart(storeID, productID, quantity int64, unitPrice string) string {
	cart, err := cartsAPI.Create(ctx, uuid.NewString(), storeID,
		[]participants.Line{{ProductID: productID, Quantity: quantity, UnitPrice: unitPrice}})
	Expect(err).NotTo(HaveOccurred())
	Expect(cart.Status).To(Equal("OPEN"))
	return cart.ID
}

var orderSeq atomic.Int64

// newOrder creates an Order for cartID and returns it as created.
func newOrder(cartID string, storeID int64, mutate ...func(*sagav1.Order)) *sagav1.Order {
	o := &sagav1.Order{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("order-%d", orderSeq.Add(1)), Namespace: testNamespace},
		Spec:       sagav1.OrderSpec{CartID: cartID, StoreID: storeID},
	}
	for _, m := range mutate {
		m(o)
	}
	Expect(k8sClient.Create(ctx, o)).To(Succeed())
	return o
}

func fetch(o *sagav1.Order) *sagav1.Order {
	got := &sagav1.Order{}
	Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(o), got)).To(Succeed())
	return got
}

// waitForPhase waits until the Order reports phase and returns it.
func waitForPhase(o *sagav1.Order, phase sagav1.OrderPhase, timeout time.Duration) *sagav1.Order {
	got := &sagav1.Order{}
	Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(o), got)).To(Succeed())
		g.Expect(got.Status.Phase).To(Equal(phase), "lastError=%q steps=%+v", got.Status.LastError, got.Status.Steps)
	}).WithTimeout(timeout).WithPolling(50 * time.Millisecond).Should(Succeed())
	return got
}

func condition(o *sagav1.Order, typ string) *metav1.Condition {
	return meta.FindStatusCondition(o.Status.Conditions, typ)
}

func step(o *sagav1.Order, name string) sagav1.StepStatus {
	for _, s := range o.Status.Steps {
		if s.Name == name {
			return s
		}
	}
	return sagav1.StepStatus{Name: name}
}

func historyEvents(o *sagav1.Order) []string {
	out := make([]string, 0, len(o.Status.History))
	for _, h := range o.Status.History {
		out = append(out, h.Event)
	}
	return out
}

func stockOf(storeID, productID int64) int64 {
	s, err := stocksAPI.GetStock(ctx, storeID, productID)
	Expect(err).NotTo(HaveOccurred())
	return s.Quantity
}

func cartStatus(id string) string {
	c, err := cartsAPI.Get(ctx, id)
	Expect(err).NotTo(HaveOccurred())
	return c.Status
}

// salesOf lists the sales created for an Order (its UID is the sale id and the orderId).
func salesOf(o *sagav1.Order) []participants.Sale {
	list, err := salesAPI.List(ctx, 0, string(o.UID))
	Expect(err).NotTo(HaveOccurred())
	return list
}

// eventReasons lists the reasons of the Kubernetes Events about an Order.
func eventReasons(o *sagav1.Order, typ string) []string {
	list := &eventsv1.EventList{}
	Expect(k8sClient.List(ctx, list, client.InNamespace(o.Namespace))).To(Succeed())
	var out []string
	for _, e := range list.Items {
		if e.Regarding.UID == o.UID && (typ == "" || e.Type == typ) {
			out = append(out, e.Reason)
		}
	}
	return out
}

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
	"encoding/json"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/eventbus"
)

// busEvents reads the saga log events of one Order from the stream, in stream order.
func busEvents(o *sagav1.Order) []eventbus.Received {
	conn, err := eventbus.Connect(eventbus.Options{URL: bus.URL(), Name: "spec"}, nil, nil)
	Expect(err).NotTo(HaveOccurred())
	defer conn.Close()
	got, err := eventbus.ReadAll(ctx, conn.JS, eventbus.FollowOptions{Subject: "kubesaga.orders.>", CorrelationID: string(o.UID)})
	if err != nil {
		return nil // the bus may be coming back
	}
	return got
}

// expectSagaLogOnBus waits until the stream holds every history entry of o, and checks
// that it holds each once, in order, with the id <UID>-<index>.
func expectSagaLogOnBus(o *sagav1.Order) {
	want := historyEvents(o)
	Eventually(func() int { return len(busEvents(o)) }).WithTimeout(30 * time.Second).Should(BeNumerically(">=", len(want)))
	got := busEvents(o)
	Expect(got).To(HaveLen(len(want)), "every entry once")
	for i, r := range got {
		var d eventbus.OrderData
		Expect(json.Unmarshal(r.Event.Data, &d)).To(Succeed())
		Expect(d.Event).To(Equal(want[i]))
		Expect(d.Index).To(Equal(i))
		Expect(d.Namespace + "/" + d.Name).To(Equal(o.Namespace + "/" + o.Name))
		Expect(r.Event.ID).To(Equal(string(o.UID) + "-" + strconv.Itoa(i)))
		Expect(r.MsgID).To(Equal(r.Event.ID))
		Expect(r.Subject).To(Equal("kubesaga.orders." + want[i]))
		Expect(r.Event.Type).To(Equal("io.kubesaga.orders." + want[i] + ".v1"))
		Expect(r.Event.Subject).To(Equal(string(o.UID)))
		Expect(r.Event.Time.Equal(o.Status.History[i].Time.Time)).To(BeTrue())
	}
}

var _ = Describe("Saga log on the event bus", func() {
	It("publishes every history entry of a succeeded and a compensated saga once, in order", func() {
		product := newProduct(store, 15)
		ok := waitForPhase(newOrder(newCart(store, product, 3, "12.50"), store), sagav1.PhaseSucceeded, 20*time.Second)
		scarce := newProduct(store, 1)
		failed := waitForPhase(newOrder(newCart(store, scarce, 2, "4.00"), store), sagav1.PhaseFailed, 20*time.Second)
		expectSagaLogOnBus(ok)
		expectSagaLogOnBus(failed)
		Expect(historyEvents(failed)).To(ContainElement("COMPENSATED"))
	})

	It("lets sagas run while the bus is down and publishes the backlog when it returns, once", func() {
		bus.Shutdown()
		product := newProduct(store, 15)
		orders := make([]*sagav1.Order, 0, 3)
		for range 3 {
			orders = append(orders, newOrder(newCart(store, product, 1, "2.00"), store))
		}
		for i, o := range orders {
			orders[i] = waitForPhase(o, sagav1.PhaseSucceeded, 30*time.Second) // the saga does not wait for the bus
		}
		var err error
		bus, err = bus.Restart()
		Expect(err).NotTo(HaveOccurred())
		for _, o := range orders {
			expectSagaLogOnBus(o)
		}
	})

	It("publishes nothing twice after the operator restarts (position rebuilt from the stream)", func() {
		o := waitForPhase(newOrder(newCart(store, newProduct(store, 5), 1, "3.00"), store), sagav1.PhaseSucceeded, 20*time.Second)
		expectSagaLogOnBus(o)
		stopManager()
		startManager()
		// The new manager reconciles every Order again; wait for a later Order's log as
		// the sign that it has caught up, then count the first one's events again.
		later := waitForPhase(newOrder(newCart(store, newProduct(store, 5), 1, "3.00"), store), sagav1.PhaseSucceeded, 20*time.Second)
		expectSagaLogOnBus(later)
		expectSagaLogOnBus(o)
	})
})

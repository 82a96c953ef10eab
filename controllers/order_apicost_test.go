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
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/controllers"
)

// The API cost of an Order (docs/architecture.md, "API writes and crash safety"), counted
// at the API server: every write to an Order is one watch event of it, in order.
var _ = Describe("API cost of an Order", Ordered, func() {
	var policy []*unstructured.Unstructured

	BeforeAll(func() {
		// As `make install` does: the admission policy adds the finalizer at create.
		policy = admissionObjects()
		for _, u := range policy {
			Expect(k8sClient.Create(ctx, u.DeepCopy())).To(Succeed())
		}
		// The API server loads policies asynchronously: wait until a (dry-run) create
		// comes back with the finalizer.
		Eventually(func() []string {
			o := &sagav1.Order{}
			o.Namespace, o.GenerateName = testNamespace, "probe-"
			o.Spec = sagav1.OrderSpec{CartID: validCart, StoreID: store}
			if err := k8sClient.Create(ctx, o, client.DryRunAll); err != nil {
				return nil
			}
			return o.Finalizers
		}).WithTimeout(30 * time.Second).Should(ContainElement(sagav1.Finalizer))
	})

	AfterAll(func() {
		for _, u := range policy {
			Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, u.DeepCopy()))).To(Succeed())
		}
	})

	It("costs at most 2 writes to the Order, 1 Event and 1.5 KB of status when it succeeds", func() {
		product := newProduct(store, 5)
		cart := newCart(store, product, 3, "12.50")
		name := "apicost-ok"
		w := watchOrder(name)
		defer w.Stop()
		o := newOrder(cart, store, func(o *sagav1.Order) { o.Name = name })
		got := waitForPhase(o, sagav1.PhaseSucceeded, 20*time.Second)
		Eventually(func() []string { return eventReasons(got, "") }).Should(ContainElement(sagav1.EventReasonCompleted))

		// Stopping the manager waits for its passes to end: every write it would make
		// for this Order is made by then.
		stopManager()
		final := fetch(o)
		startManager()

		writes := writesUntil(w, final.ResourceVersion)
		raw, err := json.Marshal(final.Status)
		Expect(err).NotTo(HaveOccurred())
		AddReportEntry("API cost of a succeeded Order", fmt.Sprintf("writes %d, Events %d, status %d bytes, managed fields %d entries",
			writes, len(eventReasons(final, "")), len(raw), len(final.ManagedFields)))
		Expect(writes).To(BeNumerically("<=", 2), "create, final status")
		Expect(eventReasons(final, "")).To(Equal([]string{sagav1.EventReasonCompleted}), "one Event, on completion")
		Expect(final.Finalizers).To(ContainElement(sagav1.Finalizer), "kept until deletion: releasing it is one more write")

		Expect(len(raw)).To(BeNumerically("<=", 1536), "status: %s", raw)
		Expect(final.Status.Steps).To(HaveLen(5))
		Expect(historyEvents(final)).To(ContainElement(sagav1.HistorySaleCreated), "history keeps the saga's story")

		// One managed fields entry per manager and subresource, all of them Updates: the
		// operator's writes add only its status entry.
		seen := map[string]bool{}
		status := 0
		for _, m := range final.ManagedFields {
			key := m.Manager + "/" + m.Subresource
			Expect(seen).NotTo(HaveKey(key), "managed fields %+v", final.ManagedFields)
			seen[key] = true
			Expect(m.Operation).To(Equal(metav1.ManagedFieldsOperationUpdate))
			if m.Subresource == "status" {
				status++
			}
		}
		Expect(status).To(Equal(1))

		// Deleting it is one more write by the operator, and it goes at once: the sale stands.
		Expect(k8sClient.Delete(ctx, final)).To(Succeed())
		Eventually(orderGone(o)).WithTimeout(10 * time.Second).Should(BeTrue())
		Expect(salesOf(final)).To(HaveLen(1))
	})

	It("still tells why a refused Order was compensated, with Warning Events", func() {
		product := newProduct(store, 1)
		cart := newCart(store, product, 2, "4.00")
		o := newOrder(cart, store)
		got := waitForPhase(o, sagav1.PhaseFailed, 20*time.Second)
		Eventually(func() []string { return eventReasons(got, corev1.EventTypeWarning) }).
			Should(ContainElement(sagav1.EventReasonStepFailed))
		Eventually(func() []string { return eventReasons(got, corev1.EventTypeNormal) }).
			Should(ContainElements(sagav1.EventReasonCartUnlocked, sagav1.EventReasonCompensated))
		Expect(eventReasons(got, "")).NotTo(ContainElement(sagav1.EventReasonCartLocked), "a step done at once has no Event")
	})
})

// admissionObjects reads the objects of config/admission, as `make install` applies them.
func admissionObjects() []*unstructured.Unstructured {
	files, err := filepath.Glob(filepath.Join("..", "config", "admission", "*.yaml"))
	Expect(err).NotTo(HaveOccurred())
	Expect(files).NotTo(BeEmpty())
	var out []*unstructured.Unstructured
	for _, f := range files {
		raw, err := os.ReadFile(f)
		Expect(err).NotTo(HaveOccurred())
		dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
		for {
			u := &unstructured.Unstructured{}
			if err := dec.Decode(&u.Object); err != nil {
				Expect(errors.Is(err, io.EOF)).To(BeTrue(), "%s: %v", f, err)
				break
			}
			if len(u.Object) > 0 {
				out = append(out, u)
			}
		}
	}
	return out
}

// watchOrder watches the Order of that name from before it exists.
func watchOrder(name string) watch.Interface {
	wc, err := client.NewWithWatch(cfg, client.Options{Scheme: controllers.Scheme()})
	Expect(err).NotTo(HaveOccurred())
	w, err := wc.Watch(ctx, &sagav1.OrderList{}, client.InNamespace(testNamespace),
		client.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("metadata.name", name)})
	Expect(err).NotTo(HaveOccurred())
	return w
}

// writesUntil counts the writes (ADDED and MODIFIED events) the watch delivers up to and
// including the version rv.
func writesUntil(w watch.Interface, rv string) int {
	n := 0
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev, ok := <-w.ResultChan():
			Expect(ok).To(BeTrue(), "the watch ended early")
			Expect(ev.Type).NotTo(Equal(watch.Error), "watch: %v", apierrors.FromObject(ev.Object))
			if ev.Type != watch.Added && ev.Type != watch.Modified {
				continue
			}
			n++
			if ev.Object.(*sagav1.Order).ResourceVersion == rv {
				return n
			}
		case <-timeout:
			Fail("the watch did not deliver the Order's version " + rv)
			return n
		}
	}
}

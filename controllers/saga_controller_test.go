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
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
)

// rooms is a small participant written for these specs, as a user's own service would
// be: holds (PUT/DELETE /holds/{id}) and bookings (POST /book), with a bearer token that
// can be rotated, and a count of every request it received.
type rooms struct {
	*httptest.Server
	mu       sync.Mutex
	tokens   map[string]bool
	holds    map[string]bool
	booked   map[string]bool
	requests atomic.Int64
}

func newRooms() *rooms {
	r := &rooms{tokens: map[string]bool{}, holds: map[string]bool{}, booked: map[string]bool{}}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	return r
}

func (r *rooms) accept(tokens ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tokens = map[string]bool{}
	for _, t := range tokens {
		r.tokens[t] = true
	}
}

func (r *rooms) serve(w http.ResponseWriter, req *http.Request) {
	r.requests.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.tokens) > 0 && !r.tokens[strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ")] {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	id := strings.TrimPrefix(req.URL.Path, "/holds/")
	switch {
	case req.Method == http.MethodPut && strings.HasPrefix(req.URL.Path, "/holds/"):
		r.holds[id] = true
		w.WriteHeader(http.StatusCreated)
		_, _ = fmt.Fprintf(w, `{"id":%q,"room":"A1"}`, id)
	case req.Method == http.MethodDelete && strings.HasPrefix(req.URL.Path, "/holds/"):
		delete(r.holds, id)
		w.WriteHeader(http.StatusNoContent)
	case req.Method == http.MethodPost && req.URL.Path == "/book":
		var body struct{ ID string }
		_ = json.NewDecoder(req.Body).Decode(&body)
		r.booked[body.ID] = true
		_, _ = fmt.Fprintf(w, `{"booking":%q}`, body.ID)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (r *rooms) held(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.holds[id]
}

var sagaSeq atomic.Int64

// declare creates (or points) a cluster-scoped Participant.
func declare(name, url string, secret *sagav1.SecretKeyRef) {
	p := &sagav1.Participant{ObjectMeta: metav1.ObjectMeta{Name: name}}
	err := k8sClient.Get(ctx, client.ObjectKeyFromObject(p), p)
	if apierrors.IsNotFound(err) {
		p.Spec = sagav1.ParticipantSpec{URL: url, TokenSecretRef: secret, Timeout: &metav1.Duration{Duration: 2 * time.Second}}
		Expect(k8sClient.Create(ctx, p)).To(Succeed())
		return
	}
	Expect(err).NotTo(HaveOccurred())
	p.Spec.URL, p.Spec.TokenSecretRef = url, secret
	Expect(k8sClient.Update(ctx, p)).To(Succeed())
}

// checkoutTemplate creates the Order saga's template (config/samples) under a new name.
func checkoutTemplate() *sagav1.SagaTemplate {
	raw, err := os.ReadFile(filepath.Join("..", "config", "samples", "saga_v1alpha1_sagatemplate_checkout.yaml"))
	Expect(err).NotTo(HaveOccurred())
	t := &sagav1.SagaTemplate{}
	Expect(yaml.UnmarshalStrict(raw, t)).To(Succeed())
	return createTemplate(t.Spec)
}

func createTemplate(spec sagav1.SagaTemplateSpec) *sagav1.SagaTemplate {
	t := &sagav1.SagaTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("tpl-%d", sagaSeq.Add(1)), Namespace: testNamespace},
		Spec:       spec,
	}
	Expect(k8sClient.Create(ctx, t)).To(Succeed())
	return t
}

func newSaga(tmpl string, input any, mutate ...func(*sagav1.Saga)) *sagav1.Saga {
	raw, err := json.Marshal(input)
	Expect(err).NotTo(HaveOccurred())
	s := &sagav1.Saga{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("saga-%d", sagaSeq.Add(1)), Namespace: testNamespace},
		Spec:       sagav1.SagaSpec{TemplateRef: sagav1.TemplateRef{Name: tmpl}, Input: &runtime.RawExtension{Raw: raw}},
	}
	for _, m := range mutate {
		m(s)
	}
	Expect(k8sClient.Create(ctx, s)).To(Succeed())
	return s
}

func checkoutSaga(tmpl, cart string, mutate ...func(*sagav1.Saga)) *sagav1.Saga {
	return newSaga(tmpl, map[string]any{"cartId": cart, "storeId": store}, mutate...)
}

func fetchSaga(s *sagav1.Saga) *sagav1.Saga {
	got := &sagav1.Saga{}
	Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(s), got)).To(Succeed())
	return got
}

func waitForSagaPhase(s *sagav1.Saga, phase sagav1.OrderPhase, timeout time.Duration) *sagav1.Saga {
	got := &sagav1.Saga{}
	Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(s), got)).To(Succeed())
		g.Expect(got.Status.Phase).To(Equal(phase), "lastError=%q steps=%+v", got.Status.LastError, got.Status.Steps)
	}).WithTimeout(timeout).WithPolling(50 * time.Millisecond).Should(Succeed())
	return got
}

func sagaStep(s *sagav1.Saga, name string) sagav1.StepStatus {
	for _, st := range s.Status.Steps {
		if st.Name == name {
			return st
		}
	}
	return sagav1.StepStatus{Name: name}
}

func sagaHistory(s *sagav1.Saga) []string {
	out := make([]string, 0, len(s.Status.History))
	for _, h := range s.Status.History {
		out = append(out, h.Event)
	}
	return out
}

func sagaCondition(s *sagav1.Saga, typ string) metav1.Condition {
	if c := meta.FindStatusCondition(s.Status.Conditions, typ); c != nil {
		return *c
	}
	return metav1.Condition{}
}

func gone(obj client.Object) func() bool {
	return func() bool { return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), obj)) }
}

func call(participant, method, path, body string) sagav1.Call {
	return sagav1.Call{Participant: participant, Method: method, Path: path, Body: body}
}

var _ = Describe("Saga of a SagaTemplate", func() {
	BeforeEach(func() {
		declare("carts", cartsSvc.URL(), nil)
		declare("stocks", stocksSvc.URL(), nil)
		declare("sales", salesSvc.URL(), nil)
	})
	AfterEach(func() {
		for _, p := range []*participant{cartsSvc, stocksSvc, salesSvc} {
			p.Heal()
			if !p.Running() {
				p.Start()
			}
		}
	})

	It("runs the Order saga as a template: same calls, effects and history as an Order", func() {
		tmpl := checkoutTemplate()
		Eventually(func() string {
			got := &sagav1.SagaTemplate{}
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(tmpl), got)).To(Succeed())
			c := meta.FindStatusCondition(got.Status.Conditions, sagav1.ConditionValid)
			if c == nil {
				return ""
			}
			return string(c.Status) + " " + c.Message
		}).Should(HavePrefix("True"))

		product := newProduct(store, 15)
		cart := newCart(store, product, 3, "12.50")
		s := checkoutSaga(tmpl.Name, cart)

		got := waitForSagaPhase(s, sagav1.PhaseSucceeded, 20*time.Second)
		Expect(sagaCondition(got, sagav1.ConditionSucceeded).Status).To(Equal(metav1.ConditionTrue))
		Expect(sagaCondition(got, sagav1.ConditionStalled).Status).To(Equal(metav1.ConditionFalse))
		Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
		Expect(historyEventsOfOrderSaga()).To(Equal(sagaHistory(got)))
		Expect(got.Status.Outputs).To(Equal(map[string]string{
			"saleId": string(got.UID), "reservationId": string(got.UID), "total": "37.50"}))
		for _, st := range got.Status.Steps {
			Expect(st.State).To(Equal("Succeeded"), st.Name)
			Expect(st.Attempts).To(Equal(int32(1)), st.Name)
		}
		Expect(got.Status.Template).NotTo(BeNil())
		Expect(got.Status.Template.Name).To(Equal(tmpl.Name))
		Expect(got.Status.Responses).To(HaveLen(1), "only LockCart's response is read by later steps")
		Expect(got.Status.Responses[0].Step).To(Equal("LockCart"))
		// As an Order: one Event for a successful Saga, on completion.
		about := &sagav1.Order{ObjectMeta: got.ObjectMeta} // eventReasons reads namespace and UID
		Eventually(func() []string { return eventReasons(about, "") }).Should(ContainElement(sagav1.EventReasonCompleted))
		Expect(eventReasons(about, "")).To(ConsistOf(sagav1.EventReasonCompleted))

		Expect(stockOf(store, product)).To(Equal(int64(12)))
		sales, err := salesAPI.List(ctx, 0, string(got.UID))
		Expect(err).NotTo(HaveOccurred())
		Expect(sales).To(HaveLen(1))
		Expect(sales[0].Total).To(Equal("37.50"))
		Expect(cartStatus(cart)).To(Equal("CHECKED_OUT"))
		evs, err := cartsAPI.Events(ctx, string(got.UID))
		Expect(err).NotTo(HaveOccurred())
		Expect(evs).NotTo(BeEmpty(), "every call carries the Saga's UID as correlation id")
		// As an Order: the finalizer stays until deletion, which it then does not delay.
		Expect(fetchSaga(s).Finalizers).To(ContainElement(sagav1.Finalizer))
		Expect(k8sClient.Delete(ctx, fetchSaga(s))).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(s), &sagav1.Saga{}))
		}).WithTimeout(10 * time.Second).Should(BeTrue())
		Expect(salesAPI.List(ctx, 0, string(got.UID))).To(HaveLen(1), "Retain: the sale stands")
	})

	It("compensates a refusal, newest first, without retrying it", func() {
		tmpl := checkoutTemplate()
		product := newProduct(store, 5)
		cart := newCart(store, product, 2, "4.00")
		salesSvc.FailWith("PUT /api/sales/", http.StatusConflict)
		s := checkoutSaga(tmpl.Name, cart)

		got := waitForSagaPhase(s, sagav1.PhaseFailed, 20*time.Second)
		Expect(sagaCondition(got, sagav1.ConditionCompensated).Status).To(Equal(metav1.ConditionTrue))
		Expect(sagaCondition(got, sagav1.ConditionSucceeded).Reason).To(Equal("StepRefused"))
		Expect(got.Status.LastError).To(ContainSubstring("CreateSale"))
		Expect(sagaStep(got, "CreateSale").State).To(Equal("Refused"))
		Expect(sagaStep(got, "CreateSale").Attempts).To(Equal(int32(1)))
		Expect(sagaHistory(got)).To(Equal([]string{"ORDER_CREATED", "CART_LOCKED", "STOCK_RESERVED", "STEP_FAILED",
			"STOCK_RELEASED", "CART_UNLOCKED", "COMPENSATED", "FAILED"}), "undone newest first, then the outcome")
		Expect(stockOf(store, product)).To(Equal(int64(5)))
		Expect(cartStatus(cart)).To(Equal("OPEN"))
	})

	It("retries a transient fault, and keeps running from its snapshot when the template goes away", func() {
		tmpl := checkoutTemplate()
		product := newProduct(store, 5)
		cart := newCart(store, product, 1, "9.99")
		salesSvc.Stop()
		s := checkoutSaga(tmpl.Name, cart)
		Eventually(func(g Gomega) {
			got := fetchSaga(s)
			g.Expect(sagaStep(got, "CreateSale").State).To(Equal("Retrying"))
			g.Expect(sagaStep(got, "CreateSale").Attempts).To(BeNumerically(">=", 2))
			g.Expect(got.Status.NextRetryAt).NotTo(BeNil())
			g.Expect(got.Status.Phase).To(Equal(sagav1.PhaseRunning))
		}).WithTimeout(10 * time.Second).Should(Succeed())
		// The Saga pinned its template when it started: neither an edit nor a deletion
		// changes a Saga in flight.
		Expect(k8sClient.Delete(ctx, tmpl)).To(Succeed())
		salesSvc.Start()

		got := waitForSagaPhase(s, sagav1.PhaseSucceeded, 20*time.Second)
		// Consecutive retries of one call fold into one entry, as for an Order, so that a
		// long outage does not push the saga's start out of the bounded history.
		retries := 0
		for _, e := range sagaHistory(got) {
			if e == "STEP_RETRYING" {
				retries++
			}
		}
		Expect(retries).To(Equal(1), "history %v", sagaHistory(got))
		Expect(stockOf(store, product)).To(Equal(int64(4)))
	})

	It("after the pivot only goes forward: a refused retriable step stalls, and the retry annotation finishes it", func() {
		tmpl := checkoutTemplate()
		product := newProduct(store, 5)
		cart := newCart(store, product, 1, "3.00")
		// A refusal (a transient fault after the pivot is retried until it heals).
		cartsSvc.FailWith("POST /api/carts/"+cart+"/checkout", http.StatusUnprocessableEntity)
		s := checkoutSaga(tmpl.Name, cart)

		got := waitForSagaPhase(s, sagav1.PhaseStalled, 30*time.Second)
		Expect(sagaCondition(got, sagav1.ConditionStalled).Reason).To(Equal(sagav1.ReasonRetriableStepRefused))
		Expect(sagaStep(got, "CheckoutCart").State).To(Equal("Stalled"))
		Expect(sagaStep(got, "CreateSale").State).To(Equal("Succeeded"), "never compensated after the pivot")
		Expect(got.Status.Outputs).To(HaveKeyWithValue("total", "3.00"))
		Expect(stockOf(store, product)).To(Equal(int64(4)))

		cartsSvc.Heal()
		patch := client.MergeFrom(got.DeepCopy())
		got.Annotations = map[string]string{sagav1.RetryAnnotation: "now"}
		Expect(k8sClient.Patch(ctx, got, patch)).To(Succeed())
		got = waitForSagaPhase(s, sagav1.PhaseSucceeded, 20*time.Second)
		Expect(sagaStep(got, "LockCart").Attempts).To(Equal(int32(1)), "finished steps are not redone")
		Expect(cartStatus(cart)).To(Equal("CHECKED_OUT"))
		Eventually(func() map[string]string { return fetchSaga(s).Annotations }).ShouldNot(HaveKey(sagav1.RetryAnnotation))
	})

	It("exhausting the pivot's attempts compensates it and every earlier step", func() {
		tmpl := checkoutTemplate()
		product := newProduct(store, 5)
		cart := newCart(store, product, 1, "1.00")
		salesSvc.FailWith("PUT /api/sales/", http.StatusServiceUnavailable)
		s := checkoutSaga(tmpl.Name, cart)

		got := waitForSagaPhase(s, sagav1.PhaseFailed, 30*time.Second)
		Expect(sagaCondition(got, sagav1.ConditionSucceeded).Reason).To(Equal("AttemptsExhausted"))
		Expect(sagaStep(got, "CreateSale").State).To(Equal("Compensated"), "an uncertain pivot is undone too")
		Expect(sagaStep(got, "CreateSale").Attempts).To(Equal(int32(testOptions().MaxAttempts)))
		Expect(got.Status.LastError).To(ContainSubstring("503"))
		Expect(stockOf(store, product)).To(Equal(int64(5)))
		Expect(cartStatus(cart)).To(Equal("OPEN"))
	})

	Describe("deletion", func() {
		It("compensates an in-flight Saga before it disappears", func() {
			tmpl := checkoutTemplate()
			product := newProduct(store, 5)
			cart := newCart(store, product, 1, "2.50")
			salesSvc.Stop()
			s := checkoutSaga(tmpl.Name, cart)
			Eventually(func() string { return sagaStep(fetchSaga(s), "CreateSale").State }).
				WithTimeout(10 * time.Second).Should(Equal("Retrying"))
			Expect(k8sClient.Delete(ctx, s)).To(Succeed())
			Consistently(func() error { return k8sClient.Get(ctx, client.ObjectKeyFromObject(s), &sagav1.Saga{}) }).
				WithTimeout(300 * time.Millisecond).Should(Succeed())
			salesSvc.Start()
			Eventually(gone(s)).WithTimeout(20 * time.Second).Should(BeTrue())
			Expect(stockOf(store, product)).To(Equal(int64(5)))
			Expect(cartStatus(cart)).To(Equal("OPEN"))
		})

		It("keeps a Succeeded Saga's effects with Retain and undoes them with Compensate", func() {
			tmpl := checkoutTemplate()
			product := newProduct(store, 5)
			keep := checkoutSaga(tmpl.Name, newCart(store, product, 1, "2.50"))
			undo := checkoutSaga(tmpl.Name, newCart(store, product, 2, "2.50"),
				func(s *sagav1.Saga) { s.Spec.DeletionPolicy = sagav1.DeletionCompensate })
			waitForSagaPhase(keep, sagav1.PhaseSucceeded, 20*time.Second)
			got := waitForSagaPhase(undo, sagav1.PhaseSucceeded, 20*time.Second)
			Expect(got.Finalizers).To(ContainElement(sagav1.Finalizer), "Compensate keeps the Saga held")
			Expect(stockOf(store, product)).To(Equal(int64(2)))

			Expect(k8sClient.Delete(ctx, keep)).To(Succeed())
			Expect(k8sClient.Delete(ctx, undo)).To(Succeed())
			Eventually(gone(keep)).WithTimeout(10 * time.Second).Should(BeTrue())
			Eventually(gone(undo)).WithTimeout(20 * time.Second).Should(BeTrue())
			sales, err := salesAPI.List(ctx, 0, string(got.UID))
			Expect(err).NotTo(HaveOccurred())
			Expect(sales).To(HaveLen(1))
			Expect(sales[0].Status).To(Equal("CANCELLED"))
			// The Compensate Saga's 2 units are back; the Retain Saga's unit stays sold.
			Expect(stockOf(store, product)).To(Equal(int64(4)))
		})
	})

	It("reads the participant's token from its Secret on every call: a rotation applies without restart", func() {
		r := newRooms()
		DeferCleanup(r.Close)
		r.accept("v1")
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "rooms-token", Namespace: testNamespace},
			Data: map[string][]byte{"token": []byte("v1\n")}}
		Expect(k8sClient.Create(ctx, secret)).To(Succeed())
		declare("rooms", r.URL, &sagav1.SecretKeyRef{Namespace: testNamespace, Name: "rooms-token", Key: "token"})
		tmpl := createTemplate(sagav1.SagaTemplateSpec{Steps: []sagav1.TemplateStep{{Name: "Book", Kind: sagav1.StepPivot,
			Do: call("rooms", "POST", "'/book'", "{'id': saga.uid}")}}})

		first := waitForSagaPhase(newSaga(tmpl.Name, map[string]any{}), sagav1.PhaseSucceeded, 20*time.Second)
		Expect(first.Status.History).NotTo(BeEmpty())
		Expect(first.Status.History[0].Event).To(Equal(sagav1.EventSagaCreated))

		r.accept("v2") // the participant moved on; the Secret still holds v1
		second := newSaga(tmpl.Name, map[string]any{})
		Eventually(func(g Gomega) {
			got := fetchSaga(second)
			g.Expect(sagaStep(got, "Book").State).To(Equal("Retrying"))
			g.Expect(got.Status.LastError).To(ContainSubstring("bearer token"))
			g.Expect(got.Status.LastError).NotTo(ContainSubstring("v1"), "a token never appears in status")
		}).WithTimeout(10 * time.Second).Should(Succeed())
		secret.Data["token"] = []byte("v2\n")
		Expect(k8sClient.Update(ctx, secret)).To(Succeed())
		waitForSagaPhase(second, sagav1.PhaseSucceeded, 20*time.Second)
	})

	It("calls only declared participants, and a path can never leave one", func() {
		r := newRooms()
		DeferCleanup(r.Close)
		declare("rooms", r.URL, nil)
		undeclared := createTemplate(sagav1.SagaTemplateSpec{Steps: []sagav1.TemplateStep{{Name: "Steal", Kind: sagav1.StepPivot,
			Do: call("metadata-server", "GET", "'/latest/meta-data'", "")}}})
		Eventually(func(g Gomega) {
			got := &sagav1.SagaTemplate{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(undeclared), got)).To(Succeed())
			c := meta.FindStatusCondition(got.Status.Conditions, sagav1.ConditionValid)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(Equal(sagav1.ReasonTemplateInvalid))
			g.Expect(c.Message).To(ContainSubstring(`spec.steps[0].do.participant: participant "metadata-server" is not declared`))
		}).Should(Succeed())
		waiting := newSaga(undeclared.Name, map[string]any{})
		Eventually(func(g Gomega) {
			got := fetchSaga(waiting)
			g.Expect(got.Status.Phase).To(Equal(sagav1.PhasePending))
			g.Expect(sagaCondition(got, sagav1.ConditionProgressing).Reason).To(Equal(sagav1.ReasonTemplateInvalid))
			g.Expect(got.Status.LastError).To(ContainSubstring("not declared"))
		}).Should(Succeed())

		// A declared participant, and a path built to reach another host through it.
		evil := newRooms()
		DeferCleanup(evil.Close)
		forged := createTemplate(sagav1.SagaTemplateSpec{Steps: []sagav1.TemplateStep{{Name: "Forge", Kind: sagav1.StepPivot,
			Do: call("rooms", "GET", "'/' + input.target", "")}}})
		s := newSaga(forged.Name, map[string]any{"target": "/" + strings.TrimPrefix(evil.URL, "http://") + "/steal"})
		got := waitForSagaPhase(s, sagav1.PhaseFailed, 20*time.Second)
		Expect(got.Status.LastError).To(ContainSubstring("must start with a single /"))
		Expect(sagaStep(got, "Forge").Attempts).To(Equal(int32(1)), "refused before any call: not retried")
		Expect(evil.requests.Load()).To(BeZero())
		Expect(r.requests.Load()).To(BeZero())
	})

	It("fails a Saga whose expression passes the CEL cost limit, compensating what was done", func() {
		r := newRooms()
		DeferCleanup(r.Close)
		declare("rooms", r.URL, nil)
		tmpl := createTemplate(sagav1.SagaTemplateSpec{Steps: []sagav1.TemplateStep{
			{Name: "Hold", Kind: sagav1.StepCompensatable, Do: call("rooms", "PUT", "'/holds/' + saga.uid", ""),
				Undo: &sagav1.Call{Participant: "rooms", Method: "DELETE", Path: "'/holds/' + saga.uid"}},
			{Name: "Book", Kind: sagav1.StepPivot,
				Do: call("rooms", "POST", "'/book'", "{'id': saga.uid, 'pairs': input.items.map(x, input.items.map(y, x * y))}")},
		}})
		items := make([]int, 2000)
		s := newSaga(tmpl.Name, map[string]any{"items": items})
		got := waitForSagaPhase(s, sagav1.PhaseFailed, 20*time.Second)
		Expect(got.Status.LastError).To(ContainSubstring("Book: spec.steps[1].do.body: CEL cost limit exceeded"))
		Expect(sagaStep(got, "Book").State).To(Equal("Refused"))
		Expect(sagaStep(got, "Hold").State).To(Equal("Compensated"))
		Expect(r.held(string(got.UID))).To(BeFalse())
	})

	It("refuses an input that does not match the template's schema, naming the field", func() {
		tmpl := checkoutTemplate()
		s := newSaga(tmpl.Name, map[string]any{"cartId": "not-a-uuid", "storeId": 0})
		got := waitForSagaPhase(s, sagav1.PhaseFailed, 10*time.Second)
		c := sagaCondition(got, sagav1.ConditionSucceeded)
		Expect(c.Reason).To(Equal(sagav1.ReasonInputInvalid))
		Expect(c.Message).To(ContainSubstring("spec.input.cartId: must be a UUID"))
		Expect(c.Message).To(ContainSubstring("spec.input.storeId: must be at least 1"))
		Expect(got.Status.Steps).To(BeEmpty())
		Expect(got.Finalizers).To(BeEmpty())
	})

	It("waits for a template that does not exist yet, then runs", func() {
		product := newProduct(store, 3)
		cart := newCart(store, product, 1, "1.00")
		s := checkoutSaga("checkout-later", cart)
		Eventually(func() string { return sagaCondition(fetchSaga(s), sagav1.ConditionProgressing).Reason }).
			Should(Equal(sagav1.ReasonTemplateNotFound))
		raw, err := os.ReadFile(filepath.Join("..", "config", "samples", "saga_v1alpha1_sagatemplate_checkout.yaml"))
		Expect(err).NotTo(HaveOccurred())
		t := &sagav1.SagaTemplate{}
		Expect(yaml.UnmarshalStrict(raw, t)).To(Succeed())
		t.Name, t.Namespace = "checkout-later", testNamespace
		Expect(k8sClient.Create(ctx, t)).To(Succeed())
		waitForSagaPhase(s, sagav1.PhaseSucceeded, 20*time.Second)
	})

	DescribeTable("refuses invalid templates with a message naming the field and the rule",
		func(mutate func(*sagav1.SagaTemplateSpec), want string) {
			undo := call("rooms", "DELETE", "'/x'", "")
			spec := sagav1.SagaTemplateSpec{Steps: []sagav1.TemplateStep{
				{Name: "A", Kind: sagav1.StepCompensatable, Do: call("rooms", "PUT", "'/a'", ""), Undo: &undo},
				{Name: "B", Kind: sagav1.StepPivot, Do: call("rooms", "PUT", "'/b'", "")},
				{Name: "C", Kind: sagav1.StepRetriable, Do: call("rooms", "POST", "'/c'", "")},
			}}
			mutate(&spec)
			t := &sagav1.SagaTemplate{ObjectMeta: metav1.ObjectMeta{GenerateName: "invalid-", Namespace: testNamespace}, Spec: spec}
			err := k8sClient.Create(ctx, t)
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
			Expect(err.Error()).To(ContainSubstring(want))
		},
		Entry("two pivots", func(s *sagav1.SagaTemplateSpec) { s.Steps[2].Kind = sagav1.StepPivot },
			"at most one step may be the Pivot"),
		Entry("a compensatable step without undo", func(s *sagav1.SagaTemplateSpec) { s.Steps[0].Undo = nil },
			"spec.steps[0]: Invalid value: a Compensatable step needs an undo call"),
		Entry("a retriable step with an undo", func(s *sagav1.SagaTemplateSpec) { s.Steps[2].Undo = s.Steps[0].Undo },
			"a Retriable step is never undone"),
		Entry("an unknown kind", func(s *sagav1.SagaTemplateSpec) { s.Steps[1].Kind = "Final" },
			`spec.steps[1].kind: Unsupported value: "Final"`),
		Entry("two steps of one name", func(s *sagav1.SagaTemplateSpec) { s.Steps[1].Name = "A" },
			`spec.steps[1]: Duplicate value`),
		Entry("a step name that is not CamelCase", func(s *sagav1.SagaTemplateSpec) { s.Steps[0].Name = "lock-cart" },
			"spec.steps[0].name"),
		Entry("an unknown method", func(s *sagav1.SagaTemplateSpec) { s.Steps[1].Do.Method = "TRACE" },
			`spec.steps[1].do.method: Unsupported value: "TRACE"`),
		Entry("no steps", func(s *sagav1.SagaTemplateSpec) { s.Steps = nil }, "spec.steps"),
	)

	It("sets Valid=False on a template whose CEL does not compile or reads a later step", func() {
		declare("rooms", "http://127.0.0.1:9", nil)
		undo := call("rooms", "DELETE", "'/x/' + steps.B.response.id", "")
		tmpl := createTemplate(sagav1.SagaTemplateSpec{Steps: []sagav1.TemplateStep{
			{Name: "A", Kind: sagav1.StepCompensatable, Do: call("rooms", "PUT", "'/a/' + input.id +", ""), Undo: &undo},
			{Name: "B", Kind: sagav1.StepPivot, Do: call("rooms", "PUT", "42", "")},
			{Name: "C", Kind: sagav1.StepCompensatable, Do: call("rooms", "PUT", "'/c'", ""), Undo: &undo},
		}})
		Eventually(func(g Gomega) {
			got := &sagav1.SagaTemplate{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(tmpl), got)).To(Succeed())
			c := meta.FindStatusCondition(got.Status.Conditions, sagav1.ConditionValid)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Message).To(ContainSubstring("spec.steps[0].do.path: CEL does not compile"))
			g.Expect(c.Message).To(ContainSubstring("spec.steps[0].undo.path: steps.B: only earlier steps' responses can be read"))
			g.Expect(c.Message).To(ContainSubstring("spec.steps[1].do.path: must give a string, gives a int"))
			g.Expect(c.Message).To(ContainSubstring("spec.steps[2].kind: every Compensatable step must come before the Pivot"))
			g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
		}).Should(Succeed())
	})

	DescribeTable("refuses invalid Participants and Sagas with a message naming the field and the rule",
		func(obj client.Object, want string) {
			err := k8sClient.Create(ctx, obj)
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
			Expect(err.Error()).To(ContainSubstring(want))
		},
		Entry("a participant URL that is not http", &sagav1.Participant{ObjectMeta: metav1.ObjectMeta{Name: "ftp"},
			Spec: sagav1.ParticipantSpec{URL: "ftp://files:21"}}, "url must be an absolute http or https URL"),
		Entry("a participant URL with a query", &sagav1.Participant{ObjectMeta: metav1.ObjectMeta{Name: "q"},
			Spec: sagav1.ParticipantSpec{URL: "http://a:1/?x=1"}}, "url must not carry a query"),
		Entry("a participant URL with user information", &sagav1.Participant{ObjectMeta: metav1.ObjectMeta{Name: "u"},
			Spec: sagav1.ParticipantSpec{URL: "http://admin:secret@a:1/"}}, "url must not carry user information"),
		Entry("a participant timeout over 5m", &sagav1.Participant{ObjectMeta: metav1.ObjectMeta{Name: "slow"},
			Spec: sagav1.ParticipantSpec{URL: "http://a:1", Timeout: &metav1.Duration{Duration: time.Hour}}}, "at most 5m"),
		Entry("a Saga without a template", &sagav1.Saga{ObjectMeta: metav1.ObjectMeta{Name: "no-tpl", Namespace: testNamespace}},
			"spec.templateRef.name"),
	)

	It("refuses to change a Saga's spec", func() {
		s := newSaga("nowhere", map[string]any{})
		changed := fetchSaga(s)
		patch := client.MergeFrom(changed.DeepCopy())
		changed.Spec.TemplateRef.Name = "elsewhere"
		err := k8sClient.Patch(ctx, changed, patch)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(ContainSubstring("spec is immutable"))
	})
})

// historyEventsOfOrderSaga is what the Order saga records on success (order_controller_test).
func historyEventsOfOrderSaga() []string {
	return []string{"ORDER_CREATED", "CART_LOCKED", "STOCK_RESERVED", "SALE_CREATED",
		"RESERVATION_COMMITTED", "CART_CHECKED_OUT", "COMPLETED"}
}

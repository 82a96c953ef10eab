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
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/participants"
	"github.com/kubesaga/kubesaga/internal/tracing"
)

var _ = Describe("Traces", func() {
	var rec *tracetest.SpanRecorder

	BeforeEach(func() {
		// The suite's operator and services are already running: installing a provider
		// turns their instrumentation on, as OTEL_EXPORTER_OTLP_ENDPOINT would at start.
		rec = tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
		restore := tracing.Install(tp)
		DeferCleanup(func() {
			restore()
			Expect(tp.Shutdown(ctx)).To(Succeed())
			stocksSvc.Heal()
		})
	})

	It("records one Order's saga, over several passes, as one trace across the operator and the three services", func() {
		// The reservation fails transiently first, so that the saga needs several passes.
		stocksSvc.FailWith("PUT /api/reservations/", http.StatusServiceUnavailable)
		product := newProduct(store, 10)
		o := newOrder(newCart(store, product, 2, "4.00"), store)
		Eventually(func(g Gomega) {
			g.Expect(step(fetch(o), "ReserveStock").Attempts).To(BeNumerically(">=", 2))
		}).WithTimeout(20 * time.Second).Should(Succeed())
		stocksSvc.Heal()
		got := waitForPhase(o, sagav1.PhaseSucceeded, 20*time.Second)

		By("the Order records its trace")
		Expect(got.Status.TraceID).To(MatchRegexp(`^[0-9a-f]{32}$`))
		Expect(got.Status.TraceParent).To(HavePrefix("00-" + got.Status.TraceID + "-"))
		traceID, err := trace.TraceIDFromHex(got.Status.TraceID)
		Expect(err).NotTo(HaveOccurred())

		// Server spans end after their answer was sent: wait for the last ones.
		Eventually(func(g Gomega) {
			var passes, calls, servers, txs []sdktrace.ReadOnlySpan
			byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
			for _, s := range rec.Ended() {
				if s.Name() == sagav1.SpanReconcileOrder && attr(s, tracing.AttrUID) == string(got.UID) {
					// Every pass over the Order, the first included, is in its trace.
					g.Expect(s.SpanContext().TraceID()).To(Equal(traceID), "pass span %v", s.Attributes())
				}
				if s.SpanContext().TraceID() != traceID {
					continue
				}
				byID[s.SpanContext().SpanID()] = s
				switch {
				case s.Name() == sagav1.SpanReconcileOrder:
					passes = append(passes, s)
				case s.Name() == tracing.SpanSQLiteTx:
					txs = append(txs, s)
				case s.SpanKind() == trace.SpanKindClient:
					calls = append(calls, s)
				case s.SpanKind() == trace.SpanKindServer:
					servers = append(servers, s)
				}
			}
			g.Expect(len(passes)).To(BeNumerically(">=", 3), "a pass per retry, and the one that finishes")
			for _, p := range passes {
				g.Expect(attr(p, tracing.AttrName)).To(Equal(got.Name))
				g.Expect(attr(p, tracing.AttrKind)).To(Equal("Order"))
				g.Expect(attr(p, "k8s.namespace.name")).To(Equal(got.Namespace))
			}
			g.Expect(passes).To(ContainElement(WithTransform(func(s sdktrace.ReadOnlySpan) string {
				return attr(s, tracing.AttrPhaseAfter)
			}, Equal(string(sagav1.PhaseSucceeded)))))
			g.Expect(passes).To(ContainElement(WithTransform(func(s sdktrace.ReadOnlySpan) string {
				return attr(s, tracing.AttrStep)
			}, Equal("ReserveStock"))))

			// Each participant call is a client span under a pass; the answered ones have
			// the participant's server span as their child.
			names := map[string][]string{}
			for _, c := range calls {
				g.Expect(byID).To(HaveKey(c.Parent().SpanID()), "call %s has no parent in the trace", c.Name())
				g.Expect(byID[c.Parent().SpanID()].Name()).To(Equal(sagav1.SpanReconcileOrder))
				names[c.Name()] = append(names[c.Name()], attr(c, tracing.AttrOutcome))
				g.Expect(attr(c, "http.request.method")).NotTo(BeEmpty())
			}
			g.Expect(names).To(HaveKeyWithValue("reserve stock", ContainElements(participants.OutcomeTransient, participants.OutcomeSuccess)))
			for _, n := range []string{"lock cart", "create sale", "commit reservation", "checkout cart"} {
				g.Expect(names).To(HaveKeyWithValue(n, ContainElement(participants.OutcomeSuccess)), n)
			}
			routes := map[string]bool{}
			for _, sv := range servers {
				parent, ok := byID[sv.Parent().SpanID()]
				g.Expect(ok).To(BeTrue(), "server span %s has no parent in the trace", sv.Name())
				g.Expect(parent.SpanKind()).To(Equal(trace.SpanKindClient), "server span %s", sv.Name())
				routes[attr(sv, "http.route")] = true
			}
			g.Expect(routes).To(HaveKey("/api/carts/{id}/lock"))
			g.Expect(routes).To(HaveKey("/api/reservations/{id}"))
			g.Expect(routes).To(HaveKey("/api/sales/{id}"))
			for _, c := range calls {
				if attr(c, tracing.AttrOutcome) == participants.OutcomeSuccess {
					g.Expect(servers).To(ContainElement(WithTransform(func(s sdktrace.ReadOnlySpan) trace.SpanID {
						return s.Parent().SpanID()
					}, Equal(c.SpanContext().SpanID()))), "call %s has no server span", c.Name())
				}
			}
			// The client reports the route it called as the server's pattern names it.
			for _, sv := range servers {
				g.Expect(attr(byID[sv.Parent().SpanID()], "url.template")).To(Equal(attr(sv, "http.route")), sv.Name())
			}

			// Each service's SQL transaction is a child of its server span.
			dbs := map[string]bool{}
			for _, tx := range txs {
				g.Expect(byID[tx.Parent().SpanID()].SpanKind()).To(Equal(trace.SpanKindServer))
				g.Expect(attr(tx, "db.system.name")).To(Equal("sqlite"))
				dbs[attr(tx, "db.namespace")] = true
			}
			g.Expect(dbs).To(Equal(map[string]bool{"carts.db": true, "stocks.db": true, "sales.db": true}))
		}).WithTimeout(10 * time.Second).Should(Succeed())
	})

	It("records a Saga of a template as one trace too", func() {
		declare("carts", cartsSvc.URL(), nil)
		declare("stocks", stocksSvc.URL(), nil)
		declare("sales", salesSvc.URL(), nil)
		tmpl := checkoutTemplate()
		Eventually(func(g Gomega) {
			got := &sagav1.SagaTemplate{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(tmpl), got)).To(Succeed())
			g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, sagav1.ConditionValid)).To(BeTrue())
		}).Should(Succeed())
		product := newProduct(store, 10)
		got := waitForSagaPhase(checkoutSaga(tmpl.Name, newCart(store, product, 1, "3.00")), sagav1.PhaseSucceeded, 20*time.Second)
		Expect(got.Status.TraceID).To(MatchRegexp(`^[0-9a-f]{32}$`))
		traceID, err := trace.TraceIDFromHex(got.Status.TraceID)
		Expect(err).NotTo(HaveOccurred())

		Eventually(func(g Gomega) {
			inTrace := map[trace.SpanID]sdktrace.ReadOnlySpan{}
			for _, s := range rec.Ended() {
				if s.Name() == sagav1.SpanReconcileSaga && attr(s, tracing.AttrUID) == string(got.UID) {
					g.Expect(s.SpanContext().TraceID()).To(Equal(traceID), "pass span %v", s.Attributes())
					g.Expect(attr(s, tracing.AttrKind)).To(Equal("Saga"))
				}
				if s.SpanContext().TraceID() == traceID {
					inTrace[s.SpanContext().SpanID()] = s
				}
			}
			calls, served, txs := map[string]bool{}, 0, 0
			for _, s := range inTrace {
				parent := inTrace[s.Parent().SpanID()]
				switch {
				case s.Name() == tracing.SpanSQLiteTx:
					txs++
				case s.SpanKind() == trace.SpanKindClient:
					g.Expect(parent).NotTo(BeNil(), "call %s has no parent in the trace", s.Name())
					g.Expect(parent.Name()).To(Equal(sagav1.SpanReconcileSaga))
					g.Expect(attr(s, tracing.AttrOutcome)).To(Equal(participants.OutcomeSuccess), s.Name())
					calls[s.Name()] = true
				case s.SpanKind() == trace.SpanKindServer:
					g.Expect(parent).NotTo(BeNil(), "server span %s has no parent in the trace", s.Name())
					g.Expect(parent.SpanKind()).To(Equal(trace.SpanKindClient))
					served++
				}
			}
			g.Expect(calls).To(HaveLen(len(got.Status.Steps)), "a call span per step")
			g.Expect(served).To(Equal(len(calls)))
			g.Expect(txs).To(BeNumerically(">=", len(calls)))
		}).WithTimeout(10 * time.Second).Should(Succeed())
	})
})

// attr returns the string value of a span attribute ("" when absent).
func attr(s sdktrace.ReadOnlySpan, key attribute.Key) string {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value.String()
		}
	}
	return ""
}

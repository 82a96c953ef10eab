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

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kubesaga/kubesaga/internal/dev/devstack"
	"github.com/kubesaga/kubesaga/internal/participants"
)

const store = int64(101)

var productSeq atomic.Int64

// newProduct returns a product id no other spec uses, with its stock set over HTTP.
func newProduct(storeID, stock int64) int64 {
	GinkgoHelper()
	id := 500 + productSeq.Add(1)
	_, err := stocksAPI.SetStock(ctx, storeID, id, stock)
	Expect(err).NotTo(HaveOccurred())
	return id
}

// newCart creates an OPEN cart over HTTP with one line.
func newCart(storeID, productID, quantity int64, unitPrice string) string {
	GinkgoHelper()
	cart, err := cartsAPI.Create(ctx, uuid.NewString(), storeID,
		[]participants.Line{{ProductID: productID, Quantity: quantity, UnitPrice: unitPrice}})
	Expect(err).NotTo(HaveOccurred())
	return cart.ID
}

// writeOrder writes an Order manifest as a user would, into dir (workDir when empty),
// and returns its path.
func writeOrder(dir, name, cartID string, storeID int64, labels ...string) string {
	GinkgoHelper()
	if dir == "" {
		dir = workDir
	}
	var meta strings.Builder
	if len(labels) > 0 {
		meta.WriteString("  labels:\n")
		for i := 0; i+1 < len(labels); i += 2 {
			fmt.Fprintf(&meta, "    %s: %s\n", labels[i], labels[i+1])
		}
	}
	doc := fmt.Sprintf(`apiVersion: saga.kubesaga.io/v1alpha1
kind: Order
metadata:
  name: %s
%sspec:
  cartId: %s
  storeId: %d
`, name, meta.String(), cartID, storeID)
	path := filepath.Join(dir, name+".yaml")
	Expect(os.WriteFile(path, []byte(doc), 0o640)).To(Succeed())
	return path
}

func jsonpath(name, expr string) string {
	GinkgoHelper()
	return kubectl("get", "order", name, "-o", "jsonpath="+expr)
}

func stockOf(storeID, productID int64) int64 {
	GinkgoHelper()
	s, err := stocksAPI.GetStock(ctx, storeID, productID)
	Expect(err).NotTo(HaveOccurred())
	return s.Quantity
}

func cartStatus(id string) string {
	GinkgoHelper()
	c, err := cartsAPI.Get(ctx, id)
	Expect(err).NotTo(HaveOccurred())
	return c.Status
}

func salesOf(orderUID string) []participants.Sale {
	GinkgoHelper()
	list, err := salesAPI.List(ctx, 0, orderUID)
	Expect(err).NotTo(HaveOccurred())
	return list
}

func created(sales []participants.Sale) []participants.Sale {
	var out []participants.Sale
	for _, s := range sales {
		if s.Status == "CREATED" {
			out = append(out, s)
		}
	}
	return out
}

var _ = Describe("kubesaga as a user runs it", func() {
	It("checks a cart out: kubectl apply, kubectl wait --for=condition=Succeeded", func() {
		product := newProduct(store, 15)
		cart := newCart(store, product, 3, "12.50")
		path := writeOrder("", "happy", cart, store)

		Expect(kubectl("apply", "-f", path)).To(ContainSubstring("order.saga.kubesaga.io/happy created"))
		Expect(kubectl("wait", "--for=condition=Succeeded", "order/happy", "--timeout=60s")).To(ContainSubstring("condition met"))

		Expect(jsonpath("happy", "{.status.phase}")).To(Equal("Succeeded"))
		Expect(jsonpath("happy", `{.status.conditions[?(@.type=="Compensated")].status}`)).To(Equal("False"))
		Expect(jsonpath("happy", "{.status.total}")).To(Equal("37.50"))
		Expect(jsonpath("happy", "{.status.history[*].event}")).To(Equal(
			"ORDER_CREATED CART_LOCKED STOCK_RESERVED SALE_CREATED RESERVATION_COMMITTED CART_CHECKED_OUT COMPLETED"))
		uid := jsonpath("happy", "{.metadata.uid}")
		Expect(jsonpath("happy", "{.status.saleId}")).To(Equal(uid))

		Expect(stockOf(store, product)).To(Equal(int64(12)))
		Expect(cartStatus(cart)).To(Equal("CHECKED_OUT"))
		sales := salesOf(uid)
		Expect(sales).To(HaveLen(1))
		Expect(sales[0].Status).To(Equal("CREATED"))
		Expect(sales[0].Lines).To(Equal([]participants.Line{{ProductID: product, Quantity: 3, UnitPrice: "12.50"}}))
		Expect(sales[0].Total).To(Equal("37.50"))

		// What a user sees in the table.
		Expect(kubectl("get", "orders", "happy", "-o", "wide")).To(MatchRegexp(`happy\s+Succeeded\s+` + uid + `\s+37\.50`))
	})

	It("documents the API: kubectl explain describes every spec field, and the short name works", func() {
		out := kubectl("explain", "order.spec")
		for _, field := range []string{"cartId", "storeId", "deletionPolicy", "timeout"} {
			Expect(out).To(MatchRegexp(`(?m)^\s+`+field+`\s`), "kubectl explain order.spec lists %s", field)
		}
		Expect(out).To(ContainSubstring("UUID of the cart"))
		Expect(kubectl("explain", "order.status.conditions")).To(ContainSubstring("Condition"))
		_, err := kubectlE("get", "ord")
		Expect(err).NotTo(HaveOccurred())
	})

	It("rolls back when the stock is short: Failed, Compensated=True, nothing sold", func() {
		product := newProduct(store, 1)
		cart := newCart(store, product, 2, "4.00")
		path := writeOrder("", "rollback", cart, store)

		kubectl("apply", "-f", path)
		kubectl("wait", "--for=condition=Compensated", "order/rollback", "--timeout=60s")

		Expect(jsonpath("rollback", "{.status.phase}")).To(Equal("Failed"))
		Expect(jsonpath("rollback", `{.status.conditions[?(@.type=="Succeeded")].status}`)).To(Equal("False"))
		Expect(jsonpath("rollback", "{.status.lastError}")).To(ContainSubstring("insufficient-stock"))
		Expect(jsonpath("rollback", "{.status.history[*].event}")).To(Equal(
			"ORDER_CREATED CART_LOCKED STEP_FAILED CART_UNLOCKED COMPENSATED FAILED"))
		Expect(stockOf(store, product)).To(Equal(int64(1)))
		Expect(cartStatus(cart)).To(Equal("OPEN"))
		Expect(salesOf(jsonpath("rollback", "{.metadata.uid}"))).To(BeEmpty())
	})

	It("runs one saga per Order: applying the same manifest again changes nothing", func() {
		product := newProduct(store, 10)
		cart := newCart(store, product, 2, "3.00")
		path := writeOrder("", "reapply", cart, store)
		kubectl("apply", "-f", path)
		kubectl("wait", "--for=condition=Succeeded", "order/reapply", "--timeout=60s")
		generation := jsonpath("reapply", "{.metadata.generation}")
		uid := jsonpath("reapply", "{.metadata.uid}")

		Expect(kubectl("apply", "-f", path)).To(ContainSubstring("order.saga.kubesaga.io/reapply unchanged"))
		Consistently(func(g Gomega) {
			g.Expect(jsonpath("reapply", "{.metadata.generation}")).To(Equal(generation))
			g.Expect(jsonpath("reapply", "{.metadata.uid}")).To(Equal(uid))
			g.Expect(jsonpath("reapply", "{.status.phase}")).To(Equal("Succeeded"))
		}).WithTimeout(2 * time.Second).WithPolling(500 * time.Millisecond).Should(Succeed())
		Expect(salesOf(uid)).To(HaveLen(1), "no second sale")
		Expect(stockOf(store, product)).To(Equal(int64(8)), "the stock is taken once")
	})

	It("compensates an Order deleted mid-saga before it disappears", func() {
		product := newProduct(store, 5)
		cart := newCart(store, product, 2, "2.50")
		// With the sales service down, the saga waits at CreateSale, in flight.
		Expect(stack.Kill(devstack.Sales, syscall.SIGTERM)).To(Succeed())
		path := writeOrder("", "deleted", cart, store)
		kubectl("apply", "-f", path)
		Eventually(func() string { return jsonpath("deleted", `{.status.steps[?(@.name=="CreateSale")].state}`) }).
			WithTimeout(20 * time.Second).WithPolling(200 * time.Millisecond).Should(Equal("Retrying"))
		uid := jsonpath("deleted", "{.metadata.uid}")
		Expect(stockOf(store, product)).To(Equal(int64(3)), "reserved while in flight")

		kubectl("delete", "order", "deleted", "--wait=false")
		// The finalizer holds it: the sale's outcome is unknown and must be undone first.
		Expect(jsonpath("deleted", "{.metadata.deletionTimestamp}")).NotTo(BeEmpty())
		Expect(jsonpath("deleted", "{.metadata.finalizers}")).To(ContainSubstring("saga.kubesaga.io/finalizer"))

		Expect(stack.Restart(ctx, devstack.Sales)).To(Succeed())
		kubectl("wait", "--for=delete", "order/deleted", "--timeout=60s")
		_, err := kubectlE("get", "order", "deleted")
		Expect(err).To(MatchError(ContainSubstring("NotFound")))

		Expect(stockOf(store, product)).To(Equal(int64(5)), "the reservation was released")
		Expect(cartStatus(cart)).To(Equal("OPEN"), "the cart was unlocked")
		Expect(created(salesOf(uid))).To(BeEmpty(), "no sale stands")
	})

	It("rides out a service killed with SIGKILL during a run of 50 Orders, conserving stock", func() {
		const n, chaosStore = 50, int64(301)
		initial := map[int64]int64{}
		products := make([]int64, 0, 3)
		for range 3 {
			p := newProduct(chaosStore, 25)
			products = append(products, p)
			initial[p] = 25
		}
		// Cart i takes 1+i%3 units of product i%3: 17, 34 and 48 units asked of 25 each, so
		// the stock runs short for two products and some Orders must roll back.
		dir := filepath.Join(workDir, "chaos")
		Expect(os.MkdirAll(dir, 0o750)).To(Succeed())
		carts := map[string]string{} // order name -> cart id
		for i := range n {
			qty := int64(1 + i%3)
			name := fmt.Sprintf("chaos-%02d", i)
			carts[name] = newCart(chaosStore, products[i%3], qty, "1.25")
			writeOrder(dir, name, carts[name], chaosStore, "e2e.kubesaga.io/run", "chaos")
		}

		type order struct{ name, uid, phase, compensated string }
		list := func() []order {
			out := kubectl("get", "orders", "-l", "e2e.kubesaga.io/run=chaos", "-o", "jsonpath="+
				`{range .items[*]}{.metadata.name}{" "}{.metadata.uid}{" "}{.status.phase}{" "}`+
				`{.status.conditions[?(@.type=="Compensated")].status}{"\n"}{end}`)
			var orders []order
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				f := strings.Fields(line)
				for len(f) < 4 {
					f = append(f, "")
				}
				if f[0] != "" {
					orders = append(orders, order{f[0], f[1], f[2], f[3]})
				}
			}
			return orders
		}
		finished := func(orders []order) int {
			done := 0
			for _, o := range orders {
				if o.phase == "Succeeded" || o.phase == "Failed" {
					done++
				}
			}
			return done
		}

		start := time.Now()
		kubectl("apply", "-f", dir)

		// SIGKILL the stocks service once the run is under way, and bring it back a
		// second later; then the same for sales if Orders are still in flight.
		for _, victim := range []string{devstack.Stocks, devstack.Sales} {
			var done int
			Eventually(func() int { done = finished(list()); return done }).
				WithTimeout(60 * time.Second).WithPolling(100 * time.Millisecond).Should(BeNumerically(">=", 3))
			if done == n {
				GinkgoWriter.Printf("every Order finished before %s could be killed\n", victim)
				continue
			}
			GinkgoWriter.Printf("%s: SIGKILL %s with %d of %d Orders finished\n", time.Since(start).Round(time.Millisecond), victim, done, n)
			Expect(stack.Kill(victim, syscall.SIGKILL)).To(Succeed())
			time.Sleep(time.Second)
			Expect(stack.Restart(ctx, victim)).To(Succeed())
		}

		var orders []order
		Eventually(func() int { orders = list(); return finished(orders) }).
			WithTimeout(120*time.Second).WithPolling(500*time.Millisecond).Should(Equal(n), "every Order ends")
		GinkgoWriter.Printf("%d Orders finished in %s\n", n, time.Since(start).Round(time.Millisecond))

		succeeded := 0
		for _, o := range orders {
			sales := created(salesOf(o.uid))
			switch o.phase {
			case "Succeeded":
				succeeded++
				Expect(sales).To(HaveLen(1), o.name)
				Expect(cartStatus(carts[o.name])).To(Equal("CHECKED_OUT"), o.name)
			default:
				Expect(o.compensated).To(Equal("True"), "%s failed without being compensated", o.name)
				Expect(sales).To(BeEmpty(), o.name)
				Expect(cartStatus(carts[o.name])).To(Equal("OPEN"), o.name)
			}
		}
		GinkgoWriter.Printf("%d succeeded, %d failed and compensated\n", succeeded, n-succeeded)
		Expect(succeeded).To(BeNumerically(">", 0))
		Expect(succeeded).To(BeNumerically("<", n), "the stock is short: some Orders must roll back")

		// Stock is conserved: what is left plus what was sold is what there was.
		storeSales, err := salesAPI.List(ctx, chaosStore, "")
		Expect(err).NotTo(HaveOccurred())
		sold := map[int64]int64{}
		for _, s := range created(storeSales) {
			for _, l := range s.Lines {
				sold[l.ProductID] += l.Quantity
			}
		}
		Expect(created(storeSales)).To(HaveLen(succeeded))
		for _, p := range products {
			remaining := stockOf(chaosStore, p)
			Expect(remaining+sold[p]).To(Equal(initial[p]),
				"product %d: remaining %d + sold %d != initial %d", p, remaining, sold[p], initial[p])
			Expect(remaining).To(BeNumerically(">=", 0))
		}
	})
})

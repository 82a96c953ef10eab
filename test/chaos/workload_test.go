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
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/controllers"
	"github.com/kubesaga/kubesaga/internal/dev/devstack"
	"github.com/kubesaga/kubesaga/internal/participants"
)

const runLabel = "chaos.kubesaga.io/run"

// plannedOrder is one Order of a workload and the cart it checks out.
type plannedOrder struct {
	name   string
	cart   string
	greedy bool // asks for more than the store ever had: must be refused
	saga   bool // a Saga of the checkout template rather than an Order (sagas_test.go)
	lines  []participants.Line
}

// workload is a set of Orders on their own carts in one store and namespace, with
// the stock sized so that every non-greedy Order can be served whatever the order in
// which they run, and every greedy one (about 20%) is refused for insufficient stock.
type workload struct {
	run      string
	ns       string
	store    int64
	products []int64
	initial  map[int64]int64
	orders   []plannedOrder

	k8s                   client.Client
	carts                 *participants.Carts
	stocks                *participants.Stocks
	sales                 *participants.Sales
	token                 string
	stack                 *devstack.Stack
	created               atomic.Int64
	firstCreate, allReady time.Time
}

// writeToken writes a fresh bearer token file and returns its path.
func writeToken(t *testing.T, dir string) string {
	t.Helper()
	tok := strings.ReplaceAll(uuid.NewString()+uuid.NewString(), "-", "")
	path := filepath.Join(dir, "token")
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func newK8sClient(t *testing.T) client.Client {
	t.Helper()
	c, err := client.New(env.cfg, client.Options{Scheme: controllers.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// planWorkload draws n Orders over 4 products of store with rng.
func planWorkload(rng *rand.Rand, run string, n int, store int64) *workload {
	w := &workload{run: run, ns: run, store: store, initial: map[int64]int64{}}
	for k := range 4 {
		w.products = append(w.products, store*100+int64(k)+1)
	}
	demand := map[int64]int64{}
	for i := range n {
		o := plannedOrder{name: fmt.Sprintf("%s-%04d", run, i), cart: uuid.NewString(), greedy: rng.Float64() < 0.2}
		if !o.greedy {
			perm := rng.Perm(len(w.products))
			for _, k := range perm[:1+rng.IntN(2)] { // one or two lines
				p := w.products[k]
				q := int64(1 + rng.IntN(3))
				o.lines = append(o.lines, participants.Line{ProductID: p, Quantity: q, UnitPrice: fmt.Sprintf("%d.%02d", 1+rng.IntN(20), rng.IntN(100))})
				demand[p] += q
			}
		}
		w.orders = append(w.orders, o)
	}
	for _, p := range w.products {
		w.initial[p] = demand[p] + 2 // a little slack: never exactly zero
	}
	// A greedy cart asks for one unit of a product, then for more of another than the
	// store ever had: the whole reservation must be refused, the first line included.
	for i := range w.orders {
		if o := &w.orders[i]; o.greedy {
			perm := rng.Perm(len(w.products))
			a, b := w.products[perm[0]], w.products[perm[1]]
			o.lines = []participants.Line{
				{ProductID: a, Quantity: 1, UnitPrice: "3.00"},
				{ProductID: b, Quantity: w.initial[b] + 1 + int64(rng.IntN(3)), UnitPrice: "2.50"},
			}
		}
	}
	return w
}

func (w *workload) greedy() int {
	n := 0
	for _, o := range w.orders {
		if o.greedy {
			n++
		}
	}
	return n
}

// setUp creates the namespace, the stock and every cart (before any fault).
func (w *workload) setUp(ctx context.Context, t *testing.T, s *devstack.Stack, tokenFile string) {
	t.Helper()
	w.stack = s
	w.k8s = newK8sClient(t)
	po := participants.Options{Timeout: 10 * time.Second, TokenFunc: participants.TokenFile(tokenFile)}
	tok, err := po.TokenFunc()
	if err != nil {
		t.Fatal(err)
	}
	w.token = tok
	if w.carts, err = participants.NewCarts(s.CartsURL(), nil, po); err != nil {
		t.Fatal(err)
	}
	if w.stocks, err = participants.NewStocks(s.StocksURL(), nil, po); err != nil {
		t.Fatal(err)
	}
	if w.sales, err = participants.NewSales(s.SalesURL(), nil, po); err != nil {
		t.Fatal(err)
	}
	if err := w.k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: w.ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	for _, p := range w.products {
		if _, err := w.stocks.SetStock(ctx, w.store, p, w.initial[p]); err != nil {
			t.Fatalf("set stock of %d: %v", p, err)
		}
	}
	for _, o := range w.orders {
		if _, err := w.carts.Create(ctx, o.cart, w.store, o.lines); err != nil {
			t.Fatalf("create cart %s: %v", o.cart, err)
		}
	}
}

// create creates the Orders, one every pace, and returns when all exist.
func (w *workload) create(ctx context.Context, pace time.Duration) error {
	tick := time.NewTicker(pace)
	defer tick.Stop()
	w.firstCreate = time.Now()
	for _, o := range w.orders {
		var obj client.Object = &sagav1.Order{
			ObjectMeta: metav1.ObjectMeta{Name: o.name, Namespace: w.ns, Labels: map[string]string{runLabel: w.run}},
			Spec:       sagav1.OrderSpec{CartID: o.cart, StoreID: w.store},
		}
		if o.saga {
			sg, err := w.newSaga(o)
			if err != nil {
				return err
			}
			obj = sg
		}
		var err error
		for attempt := 0; attempt < 20; attempt++ {
			if err = w.k8s.Create(ctx, obj); err == nil || apierrors.IsAlreadyExists(err) {
				err = nil
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
		if err != nil {
			return fmt.Errorf("create %s: %w", o.name, err)
		}
		w.created.Add(1)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	w.allReady = time.Now()
	return nil
}

// list returns the workload's Orders, then its Sagas (if any) in the Order's shape.
func (w *workload) list(ctx context.Context) ([]sagav1.Order, error) {
	var l sagav1.OrderList
	if err := w.k8s.List(ctx, &l, client.InNamespace(w.ns), client.MatchingLabels{runLabel: w.run}); err != nil {
		return nil, err
	}
	if w.sagas() == 0 {
		return l.Items, nil
	}
	sagas, err := w.listSagas(ctx)
	if err != nil {
		return nil, err
	}
	return append(l.Items, sagas...), nil
}

func finished(o *sagav1.Order) bool {
	switch o.Status.Phase {
	case sagav1.PhaseSucceeded, sagav1.PhaseFailed, sagav1.PhaseStalled:
		return true
	}
	return false
}

// progress is a number that grows whenever any Order of the workload moves: the sum of
// the lengths of their histories and of their steps' attempts.
func progress(orders []sagav1.Order) int {
	n := 0
	for i := range orders {
		n += len(orders[i].Status.History)
		for _, s := range orders[i].Status.Steps {
			n += int(s.Attempts + s.CompensationAttempts)
		}
	}
	return n
}

// drain waits, within timeout, until every Order exists and none is in flight.
func (w *workload) drain(ctx context.Context, t *testing.T, timeout time.Duration) []sagav1.Order {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var orders []sagav1.Order
	for {
		var err error
		orders, err = w.list(ctx)
		done := 0
		if err == nil {
			for i := range orders {
				if finished(&orders[i]) {
					done++
				}
			}
			if len(orders) == len(w.orders) && done == len(orders) {
				return orders
			}
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: after %s, %d of %d Orders finished (list error: %v)", w.run, timeout, done, len(w.orders), err)
			return orders
		}
		time.Sleep(time.Second)
	}
}

// verdict is what the checks found.
type verdict struct {
	// orders counts every saga of the workload, Sagas included; sagas counts the Sagas.
	orders, succeeded, failed, stalled, inflight int
	stockConserved                               bool
	duplicateSales, cartMismatches               int
	missingSales, salesOfFailed, orphanSales     int
	refusedServable, servedGreedy                int
	sagas, sagasSucceeded, sagasFailed           int // Sagas among the orders (and in succeeded, failed)
	leakedReservations, badHistories             int
	problems                                     []string
	suspects                                     map[string]bool // order names to diagnose
}

func (v verdict) line(prefix string) string {
	return fmt.Sprintf("%s: orders=%d succeeded=%d failed=%d stalled=%d inflight=%d stock_conserved=%t duplicate_sales=%d cart_mismatches=%d"+
		" sagas=%d sagas_succeeded=%d sagas_failed=%d leaked_reservations=%d bad_histories=%d",
		prefix, v.orders, v.succeeded, v.failed, v.stalled, v.inflight, v.stockConserved, v.duplicateSales, v.cartMismatches,
		v.sagas, v.sagasSucceeded, v.sagasFailed, v.leakedReservations, v.badHistories)
}

func (v verdict) ok() bool {
	return v.stalled == 0 && v.inflight == 0 && v.stockConserved && v.duplicateSales == 0 && v.cartMismatches == 0 &&
		v.missingSales == 0 && v.salesOfFailed == 0 && v.orphanSales == 0 && v.refusedServable == 0 && v.servedGreedy == 0 &&
		v.leakedReservations == 0 && v.badHistories == 0 && len(v.problems) == 0
}

// check verifies the invariants against the participants' own records, for Orders and
// Sagas alike (a Saga of the checkout template must have an Order's effects).
func (w *workload) check(ctx context.Context, t *testing.T, orders []sagav1.Order) verdict {
	t.Helper()
	v := verdict{orders: len(w.orders), sagas: w.sagas(), stockConserved: true, suspects: map[string]bool{}}
	bad := func(name, format string, args ...any) {
		v.problems = append(v.problems, name+": "+fmt.Sprintf(format, args...))
		if name != "" {
			v.suspects[name] = true
		}
	}
	byName := map[string]*sagav1.Order{}
	for i := range orders {
		byName[orders[i].Name] = &orders[i]
	}
	uids := map[string]string{} // uid -> name
	sold := map[int64]int64{}
	for _, p := range w.orders {
		o := byName[p.name]
		if o == nil || (o.Kind == kindSaga) != p.saga {
			v.inflight++
			bad(p.name, "the Order (or Saga) does not exist")
			continue
		}
		uid := string(o.UID)
		uids[uid] = p.name
		succeeded := meta.IsStatusConditionTrue(o.Status.Conditions, sagav1.ConditionSucceeded)
		compensated := meta.IsStatusConditionTrue(o.Status.Conditions, sagav1.ConditionCompensated)
		failedState := false
		switch {
		case o.Status.Phase == sagav1.PhaseStalled || meta.IsStatusConditionTrue(o.Status.Conditions, sagav1.ConditionStalled):
			v.stalled++
			bad(p.name, "Stalled: %s", o.Status.LastError)
		case o.Status.Phase == sagav1.PhaseSucceeded && succeeded:
			v.succeeded++
			if p.saga {
				v.sagasSucceeded++
			}
			if p.greedy {
				v.servedGreedy++
				bad(p.name, "Succeeded although it asks for more than the stock")
			}
		case o.Status.Phase == sagav1.PhaseFailed && compensated:
			v.failed++
			failedState = true
			if p.saga {
				v.sagasFailed++
			}
			if !p.greedy {
				v.refusedServable++
				bad(p.name, "Failed although the stock could serve it: %s", o.Status.LastError)
			}
		case o.Status.Phase == sagav1.PhaseFailed:
			v.inflight++
			bad(p.name, "Failed without Compensated=True")
		default:
			v.inflight++
			bad(p.name, "still in flight: phase %q, step %q", o.Status.Phase, o.Status.CurrentStep)
		}

		sales, err := w.sales.List(ctx, 0, uid)
		if err != nil {
			bad(p.name, "list sales: %v", err)
			continue
		}
		createdSales := 0
		for _, s := range sales {
			if s.Status != "CREATED" {
				continue
			}
			createdSales++
			for _, l := range s.Lines {
				sold[l.ProductID] += l.Quantity
			}
		}
		switch {
		case failedState && createdSales > 0:
			v.salesOfFailed += createdSales
			bad(p.name, "Failed, yet %d CREATED sale(s)", createdSales)
		case !failedState && createdSales > 1:
			v.duplicateSales += createdSales - 1
			bad(p.name, "%d CREATED sales", createdSales)
		case o.Status.Phase == sagav1.PhaseSucceeded && createdSales == 0:
			v.missingSales++
			bad(p.name, "Succeeded without a CREATED sale")
		}

		if msg := historyProblem(o); msg != "" {
			v.badHistories++
			bad(p.name, "%s", msg)
		}
		// No reservation outlives its saga: committed with the sale, released otherwise.
		res, err := w.stocks.GetReservation(ctx, uid)
		var refusal *participants.Refusal
		notFound := errors.As(err, &refusal) && refusal.Status == http.StatusNotFound
		switch {
		case err == nil && o.Status.Phase == sagav1.PhaseSucceeded && res.Status != "COMMITTED",
			err == nil && failedState && res.Status != "RELEASED":
			v.leakedReservations++
			bad(p.name, "%s, yet its reservation is %s", o.Status.Phase, res.Status)
		case err != nil && o.Status.Phase == sagav1.PhaseSucceeded,
			err != nil && !notFound:
			bad(p.name, "get reservation: %v", err)
		}

		cart, err := w.carts.Get(ctx, p.cart)
		if err != nil {
			bad(p.name, "get cart: %v", err)
			continue
		}
		want := ""
		switch {
		case o.Status.Phase == sagav1.PhaseSucceeded:
			want = "CHECKED_OUT"
		case failedState:
			want = "OPEN"
		}
		if want != "" && cart.Status != want {
			v.cartMismatches++
			bad(p.name, "cart %s is %s, want %s", p.cart, cart.Status, want)
		}
	}

	// Sales of the store that no Order of the workload made (a late, orphaned create).
	all, err := w.storeSales(ctx)
	if err != nil {
		bad("", "list the store's sales: %v", err)
	}
	for _, s := range all {
		if _, ok := uids[s.OrderID]; !ok && s.Status == "CREATED" {
			v.orphanSales++
			bad("", "sale %s for unknown order %s", s.ID, s.OrderID)
		}
	}

	for _, p := range w.products {
		st, err := w.stocks.GetStock(ctx, w.store, p)
		if err != nil {
			v.stockConserved = false
			bad("", "get stock of %d: %v", p, err)
			continue
		}
		if st.Quantity < 0 || st.Quantity+sold[p] != w.initial[p] {
			v.stockConserved = false
			bad("", "product %d: remaining %d + sold %d != initial %d", p, st.Quantity, sold[p], w.initial[p])
		}
	}
	return v
}

// storeSales lists every sale of the store (the typed client has no limit parameter).
func (w *workload) storeSales(ctx context.Context) ([]participants.Sale, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		fmt.Sprintf("%s/api/sales?storeId=%d&limit=1000", w.stack.SalesURL(), w.store), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+w.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("GET sales: %s: %s", resp.Status, b)
	}
	var out struct {
		Items []participants.Sale `json:"items"`
	}
	return out.Items, json.NewDecoder(resp.Body).Decode(&out)
}

// report logs the verdict's problems and, for each suspect Order (at most 10), its
// status and the participants' events for its correlation id, then the processes'
// last log lines: what a bug report needs.
func (w *workload) report(ctx context.Context, t *testing.T, v verdict, orders []sagav1.Order) {
	t.Helper()
	for _, p := range v.problems {
		t.Log("problem: " + p)
	}
	names := make([]string, 0, len(v.suspects))
	for n := range v.suspects {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) > 10 {
		names = names[:10]
	}
	for _, n := range names {
		for i := range orders {
			if orders[i].Name != n {
				continue
			}
			st, _ := json.MarshalIndent(orders[i].Status, "", "  ")
			kind := orders[i].Kind
			if kind == "" {
				kind = "Order"
			}
			t.Logf("---- %s %s (uid %s, cart %s) status:\n%s", kind, n, orders[i].UID, orders[i].Spec.CartID, st)
			uid := string(orders[i].UID)
			for name, f := range map[string]func(context.Context, string) ([]participants.Event, error){
				devstack.Carts: w.carts.Events, devstack.Stocks: w.stocks.Events, devstack.Sales: w.sales.Events,
			} {
				evs, err := f(ctx, uid)
				if err != nil {
					t.Logf("%s events of %s: %v", name, uid, err)
					continue
				}
				for _, e := range evs {
					t.Logf("  %s %s %s %s %s", name, e.CreatedAt, e.Action, e.Outcome, e.Detail)
				}
			}
		}
	}
	for _, name := range w.stack.Names() {
		t.Logf("---- last lines of %s\n%s", w.stack.LogFile(name), w.stack.LogTail(name, 20))
	}
}

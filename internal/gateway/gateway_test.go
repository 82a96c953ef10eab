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

package gateway

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/services/httpapi"
)

func TestOrderNameIsStableDNSSafeAndDistinct(t *testing.T) {
	dns := regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	keys := []string{
		"hp-1", "HP-1", "rb-1", "hp-1 ", " hp-1", "a", "-", "---", "!!", "é", "3f2b6c1e-8d0a-4c5e-9f1b-2a7d6e4c8b90",
		"Order#42/retry", strings.Repeat("x", MaxKeyLength), strings.Repeat("x", MaxKeyLength-1) + "y",
		strings.Repeat("ab-", 30), "hp_1", "hp.1",
	}
	seen := map[string]string{}
	for _, k := range keys {
		name := OrderName(k)
		if name != OrderName(k) {
			t.Errorf("OrderName(%q) is not stable", k)
		}
		if !dns.MatchString(name) || len(name) > 63 {
			t.Errorf("OrderName(%q) = %q: not a DNS-1123 label", k, name)
		}
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			t.Errorf("OrderName(%q) = %q: %v", k, name, errs)
		}
		if other, dup := seen[name]; dup {
			t.Errorf("keys %q and %q share the name %q", other, k, name)
		}
		seen[name] = k
	}
	if got := OrderName("hp-1"); !strings.HasPrefix(got, "hp-1-") || len(got) != len("hp-1-")+hashLen {
		t.Errorf("OrderName(hp-1) = %q, want the readable key then a %d-digit hash", got, hashLen)
	}
	if got := OrderName("Order#42/retry"); !strings.HasPrefix(got, "order-42-retry-") {
		t.Errorf("OrderName(Order#42/retry) = %q, want a folded readable prefix", got)
	}
	if got := OrderName("!!"); !strings.HasPrefix(got, emptyPrefix+"-") {
		t.Errorf("OrderName(!!) = %q, want the %q prefix when nothing readable is left", got, emptyPrefix)
	}
	// The hash covers the whole key: keys equal in their first 40 characters differ.
	long := strings.Repeat("k", 60)
	if OrderName(long+"1") == OrderName(long+"2") {
		t.Error("keys that differ after the readable prefix share a name")
	}
}

func TestCheckKey(t *testing.T) {
	for _, k := range []string{"hp-1", "a", strings.Repeat("k", MaxKeyLength), `"quoted" key`} {
		if p := CheckKey(k); p != nil {
			t.Errorf("CheckKey(%q) = %v", k, p)
		}
	}
	for k, rule := range map[string]string{
		"":                                  "required",
		strings.Repeat("k", MaxKeyLength+1): "exceed",
		"tab\there":                         "printable",
		"é":                                 "printable",
	} {
		p := CheckKey(k)
		if p == nil || p.Status != http.StatusBadRequest || p.Field != HeaderIdempotencyKey || !strings.Contains(p.Detail, rule) {
			t.Errorf("CheckKey(%q) = %+v, want a 400 on %s saying %q", k, p, HeaderIdempotencyKey, rule)
		}
	}
}

func TestDecodeRequestAndHash(t *testing.T) {
	const cart = "3f2b6c1e-8d0a-4c5e-9f1b-2a7d6e4c8b90"
	a, p := DecodeRequest([]byte(`{"cartId":"` + cart + `","storeId":101}`))
	if p != nil {
		t.Fatal(p)
	}
	b, p := DecodeRequest([]byte(" {\n \"storeId\": 101, \"cartId\": \"" + cart + "\" }\n"))
	if p != nil {
		t.Fatal(p)
	}
	if a != (Request{CartID: cart, StoreID: 101}) || a.Hash() != b.Hash() {
		t.Errorf("same order, other spelling: %+v %s vs %+v %s", a, a.Hash(), b, b.Hash())
	}
	if !strings.HasPrefix(a.Hash(), "sha256:") || len(a.Hash()) != len("sha256:")+64 {
		t.Errorf("Hash = %q", a.Hash())
	}
	if (Request{CartID: cart, StoreID: 102}).Hash() == a.Hash() {
		t.Error("another store hashes the same")
	}
	for body, field := range map[string]string{
		`{"storeId":101}`:                         "cartId",
		`{"cartId":null,"storeId":101}`:           "cartId",
		`{"cartId":"` + cart + `"}`:               "storeId",
		`{"cartId":"` + cart + `","storeId":"1"}`: "storeId",
		`{"cartId":1,"storeId":1}`:                "cartId",
		`{"cartId":"` + cart + `","storeId":1.5}`: "storeId",
		`{"cartId":"x","storeId":1,"quantity":2}`: "quantity",
		`[]`:                           "body",
		``:                             "body",
		`{"cartId":"x","storeId":1}{}`: "body",
	} {
		_, p := DecodeRequest([]byte(body))
		if p == nil || p.Status != http.StatusBadRequest || p.Field != field {
			t.Errorf("DecodeRequest(%s) = %+v, want a 400 naming %s", body, p, field)
		}
	}
}

// order builds an Order as the operator leaves it.
func order(phase sagav1.OrderPhase, conds ...metav1.Condition) *sagav1.Order {
	o := &sagav1.Order{
		ObjectMeta: metav1.ObjectMeta{
			Name: OrderName("hp-1"), Namespace: "shop", UID: "5b0e7f52-5d0c-4b7e-9a65-0c1d2e3f4a5b",
			Annotations: map[string]string{sagav1.IdempotencyKeyAnnotation: "hp-1"},
		},
		Spec: sagav1.OrderSpec{CartID: "3f2b6c1e-8d0a-4c5e-9f1b-2a7d6e4c8b90", StoreID: 101},
	}
	o.Status.Phase = phase
	for _, c := range conds {
		meta.SetStatusCondition(&o.Status.Conditions, c)
	}
	t0 := metav1.NewTime(time.Date(2026, 7, 26, 16, 18, 49, 0, time.UTC))
	o.Status.History = []sagav1.HistoryEntry{{Event: "ORDER_CREATED", Time: t0}, {Event: "CART_LOCKED", Time: t0}}
	return o
}

func cond(typ string, s metav1.ConditionStatus) metav1.Condition {
	return metav1.Condition{Type: typ, Status: s, Reason: "Test"}
}

func TestAnswerSucceeded(t *testing.T) {
	o := order(sagav1.PhaseSucceeded, cond(sagav1.ConditionSucceeded, metav1.ConditionTrue), cond(sagav1.ConditionCompensated, metav1.ConditionFalse))
	o.Status.SaleID, o.Status.Total = string(o.UID), "37.50"
	for created, want := range map[bool]int{true: http.StatusCreated, false: http.StatusOK} {
		a, h, err := Answer(o, created)
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != want || h.Get("Location") != "" {
			t.Errorf("created=%v: status %d, Location %q; want %d and none", created, a.Status, h.Get("Location"), want)
		}
		var v Order
		if err := json.Unmarshal(a.Body, &v); err != nil {
			t.Fatal(err)
		}
		if v.Phase != "Succeeded" || v.SaleID != string(o.UID) || v.Total != "37.50" || v.UID != string(o.UID) ||
			v.Order != o.Name || v.IdempotencyKey != "hp-1" || len(v.History) != 2 || v.History[0].Time != "2026-07-26T16:18:49Z" {
			t.Errorf("answer = %+v", v)
		}
	}
	a1, _, _ := Answer(o, true)
	a2, _, _ := Answer(o.DeepCopy(), true)
	if string(a1.Body) != string(a2.Body) {
		t.Error("the same Order gives two different bodies: a replay would not be byte-identical")
	}
}

func TestAnswerFailedIsAProblemWithTheErrorAndTheStep(t *testing.T) {
	o := order(sagav1.PhaseFailed, cond(sagav1.ConditionSucceeded, metav1.ConditionFalse), cond(sagav1.ConditionCompensated, metav1.ConditionTrue))
	o.Status.LastError = "reserve stock: product 501: 1 available, 2 asked (409 insufficient-stock)"
	o.Status.Steps = []sagav1.StepStatus{{Name: "LockCart", State: "Compensated"}, {Name: "ReserveStock", State: "Refused"}, {Name: "CreateSale", State: "Pending"}}
	a, _, err := Answer(o, true)
	if err != nil {
		t.Fatal(err)
	}
	var p httpapi.Problem
	if err := json.Unmarshal(a.Body, &p); err != nil {
		t.Fatal(err)
	}
	if a.Status != http.StatusConflict || p.Slug() != SlugSagaFailed || p.Status != http.StatusConflict {
		t.Fatalf("answer %d %+v, want 409 %s", a.Status, p, SlugSagaFailed)
	}
	if !strings.Contains(p.Detail, "ReserveStock failed") || !strings.Contains(p.Detail, "insufficient-stock") {
		t.Errorf("detail %q does not say which step failed and why", p.Detail)
	}
	if p.Extensions["failedStep"] != "ReserveStock" || p.Extensions["lastError"] != o.Status.LastError ||
		p.Extensions["uid"] != string(o.UID) || p.Extensions["phase"] != "Failed" {
		t.Errorf("extensions = %v", p.Extensions)
	}
}

func TestAnswerRunningAndStalledAre202WithALocation(t *testing.T) {
	for name, o := range map[string]*sagav1.Order{
		"new":          order(""),
		"running":      order(sagav1.PhaseRunning, cond(sagav1.ConditionSucceeded, metav1.ConditionUnknown)),
		"compensating": order(sagav1.PhaseCompensating, cond(sagav1.ConditionSucceeded, metav1.ConditionFalse), cond(sagav1.ConditionCompensated, metav1.ConditionFalse)),
		"stalled":      order(sagav1.PhaseStalled, cond(sagav1.ConditionSucceeded, metav1.ConditionFalse), cond(sagav1.ConditionStalled, metav1.ConditionTrue)),
	} {
		a, h, err := Answer(o, true)
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != http.StatusAccepted || h.Get("Location") != "/api/orders/hp-1" {
			t.Errorf("%s: status %d Location %q, want 202 /api/orders/hp-1", name, a.Status, h.Get("Location"))
		}
		var v Order
		if err := json.Unmarshal(a.Body, &v); err != nil {
			t.Fatal(err)
		}
		if want := string(o.Status.Phase); v.Phase != want && (want != "" || v.Phase != "Pending") {
			t.Errorf("%s: phase %q", name, v.Phase)
		}
		if settled(o) != (name == "stalled") {
			t.Errorf("%s: settled = %v", name, settled(o))
		}
	}
	if got := Location("a/b c"); got != "/api/orders/a%2Fb%20c" {
		t.Errorf("Location escapes badly: %q", got)
	}
}

func TestWaitParam(t *testing.T) {
	g := &Gateway{opts: Options{MaxWait: 30 * time.Second}}
	for q, want := range map[string]time.Duration{
		"": 7 * time.Second, "0": 0, "5": 5 * time.Second, "1500ms": 1500 * time.Millisecond, "2m": 30 * time.Second, "9999": 30 * time.Second,
	} {
		r, _ := http.NewRequest(http.MethodGet, "/api/orders/k?wait="+q, nil)
		if q == "" {
			r, _ = http.NewRequest(http.MethodGet, "/api/orders/k", nil)
		}
		got, p := g.waitParam(r, 7*time.Second)
		if p != nil || got != want {
			t.Errorf("wait=%q: %v %v, want %v", q, got, p, want)
		}
	}
	for _, q := range []string{"-1", "-1s", "soon", "1x"} {
		r, _ := http.NewRequest(http.MethodGet, "/api/orders/k?wait="+q, nil)
		if _, p := g.waitParam(r, 0); p == nil || p.Field != "wait" {
			t.Errorf("wait=%q: %v, want a 400 naming wait", q, p)
		}
	}
}

func TestWaitersWakeEveryWaiterOfTheNameOnly(t *testing.T) {
	w := newWaiters()
	a, releaseA := w.wait("a")
	a2, releaseA2 := w.wait("a")
	b, releaseB := w.wait("b")
	w.notify("a")
	for i, ch := range []<-chan struct{}{a, a2} {
		select {
		case <-ch:
		default:
			t.Errorf("waiter %d of a not woken", i)
		}
	}
	select {
	case <-b:
		t.Error("waiter of b woken by a")
	default:
	}
	releaseA()
	releaseA2()
	releaseA2() // twice is harmless
	if w.count() != 1 {
		t.Errorf("%d names waited for, want 1 (b)", w.count())
	}
	releaseB()
	if w.count() != 0 {
		t.Errorf("%d names left after every release", w.count())
	}
	w.notify("nobody") // no waiter: nothing to do
}

func TestParseConfig(t *testing.T) {
	env := map[string]string{"GATEWAY_ADDR": "127.0.0.1:9", "POD_NAMESPACE": "shop", "TOKEN_FILE": "/t"}
	c, err := ParseConfig(nil, func(k string) string { return env[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9" || c.Namespace != "shop" || c.TokenFile != "/t" || c.DefaultWait != DefaultWait || c.MaxWait != MaxWait {
		t.Errorf("config = %+v", c)
	}
	c, err = ParseConfig([]string{"--namespace=other", "--max-wait=5s", "--default-wait=2s"}, func(k string) string { return env[k] }, nil)
	if err != nil || c.Namespace != "other" || c.MaxWait != 5*time.Second {
		t.Errorf("flags do not win: %+v %v", c, err)
	}
	for _, args := range [][]string{{"--max-wait=0s"}, {"--default-wait=2m"}, {"--log-format=xml"}, {"extra"}} {
		if _, err := ParseConfig(args, func(string) string { return "" }, devNull{}); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

type devNull struct{}

func (devNull) Write(b []byte) (int, error) { return len(b), nil }

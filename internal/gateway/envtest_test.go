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

package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/dev/controlplane"
	"github.com/kubesaga/kubesaga/internal/gateway"
	"github.com/kubesaga/kubesaga/services/httpapi"
	"github.com/kubesaga/kubesaga/services/httpapi/openapitest"
)

// This file runs the gateway against a real kube-apiserver (envtest), through real
// HTTP, under a user that holds exactly gateway.Rules() in its namespace. The test
// writes Order status as the operator would; test/e2e runs it with the operator and
// the participant services.

const (
	ns    = "shop"
	cart  = "3f2b6c1e-8d0a-4c5e-9f1b-2a7d6e4c8b90"
	token = "gateway-test-token-0123456789abcdef"
)

type env struct {
	t         *testing.T
	ctx       context.Context
	cfg       *rest.Config // admin
	admin     client.Client
	url       string
	token     string
	tokenFile string
}

func startEnv(t *testing.T) *env {
	t.Helper()
	cp, err := controlplane.Start(controlplane.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cp.Stop(); err != nil {
			t.Error(err)
		}
	})
	te, cfg := cp.Env, cp.Config
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	scheme, err := gateway.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := rbacv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	admin, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, admin: admin, cfg: cfg}
	e.must(admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	e.must(admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "elsewhere"}}))

	// The gateway's identity: gateway.Rules() in its namespace, nothing else.
	user, err := te.AddUser(envtest.User{Name: "kubesaga-gateway"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.must(admin.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "gateway", Namespace: ns}, Rules: gateway.Rules()}))
	e.must(admin.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "gateway", Namespace: ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "gateway"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "kubesaga-gateway"}},
	}))
	gwClient, err := client.New(user.Config(), client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	probe := &sagav1.Order{ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: "elsewhere"}, Spec: sagav1.OrderSpec{CartID: cart, StoreID: 1}}
	if err := gwClient.Create(ctx, probe); !apierrors.IsForbidden(err) {
		t.Fatalf("RBAC must be enforced: creating an Order in another namespace gave %v", err)
	}

	e.token, e.tokenFile = token, filepath.Join(t.TempDir(), "token")
	e.must(os.WriteFile(e.tokenFile, []byte(token+"\n"), 0o600))
	e.run(user.Config(), e.tokenFile)
	return e
}

// run starts the gateway as cmd/gateway does (Run), on a free port.
func (e *env) run(rc *rest.Config, tokenFile string) {
	cfg := gateway.Config{
		Addr: "127.0.0.1:0", Namespace: ns, TokenFile: tokenFile, LogFormat: "text",
		DefaultWait: 10 * time.Second, MaxWait: 30 * time.Second, ShutdownTimeout: 10 * time.Second,
		TokenCheckInterval: time.Millisecond,
	}
	addr := make(chan net.Addr, 1)
	done := make(chan error, 1)
	ctx, stop := context.WithCancel(e.ctx)
	logger := slog.New(slog.NewTextHandler(testWriter{e.t}, nil))
	go func() { done <- gateway.Run(ctx, cfg, rc, logger, func(a net.Addr) { addr <- a }) }()
	select {
	case a := <-addr:
		e.url = "http://" + a.String()
	case err := <-done:
		e.t.Fatalf("gateway.Run: %v", err)
	}
	e.t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			e.t.Errorf("gateway.Run: %v", err)
		}
	})
	e.eventually("the gateway is ready", func() bool { s, _, _ := e.do("GET", "/readyz", "", nil); return s == http.StatusOK })
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// do sends a request with the bearer token unless headers set Authorization ("" for none).
func (e *env) do(method, path, body string, headers map[string]string) (int, http.Header, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(e.ctx, method, e.url+path, rd)
	e.must(err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	e.must(err)
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	e.must(err)
	return resp.StatusCode, resp.Header, b
}

func (e *env) post(key, body string, query string) (int, http.Header, []byte) {
	e.t.Helper()
	h := map[string]string{}
	if key != "" {
		h[gateway.HeaderIdempotencyKey] = key
	}
	return e.do("POST", "/api/orders"+query, body, h)
}

func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("never: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// result is an answer: res(e.post(...)) collects do's three values.
type result struct {
	status int
	header http.Header
	body   []byte
}

func res(s int, h http.Header, b []byte) result { return result{s, h, b} }

func (e *env) problem(r result, wantStatus int, slug string) httpapi.Problem {
	e.t.Helper()
	status, header, body := r.status, r.header, r.body
	if status != wantStatus || header.Get("Content-Type") != httpapi.ContentTypeProblem {
		e.t.Fatalf("status %d (%s), want a %d problem: %s", status, header.Get("Content-Type"), wantStatus, body)
	}
	var p httpapi.Problem
	e.must(json.Unmarshal(body, &p))
	if p.Slug() != slug || p.Status != wantStatus || p.Title == "" || p.Detail == "" {
		e.t.Fatalf("problem %+v, want %s", p, slug)
	}
	return p
}

func (e *env) order(key string) *sagav1.Order {
	e.t.Helper()
	o := &sagav1.Order{}
	e.must(e.admin.Get(e.ctx, types.NamespacedName{Namespace: ns, Name: gateway.OrderName(key)}, o))
	return o
}

func (e *env) orderCount() int {
	e.t.Helper()
	var l sagav1.OrderList
	e.must(e.admin.List(e.ctx, &l, client.InNamespace(ns)))
	return len(l.Items)
}

// finish writes the status the operator writes at the end of a saga.
func (e *env) finish(key string, succeeded bool) *sagav1.Order {
	e.t.Helper()
	o := e.order(key)
	now := metav1.Now()
	set := func(typ string, s metav1.ConditionStatus) {
		meta.SetStatusCondition(&o.Status.Conditions, metav1.Condition{Type: typ, Status: s, Reason: "Test", Message: "test"})
	}
	o.Status.History = []sagav1.HistoryEntry{{Event: "ORDER_CREATED", Time: now}, {Event: "CART_LOCKED", Time: now}}
	if succeeded {
		set(sagav1.ConditionSucceeded, metav1.ConditionTrue)
		set(sagav1.ConditionCompensated, metav1.ConditionFalse)
		o.Status.Phase, o.Status.SaleID, o.Status.Total = sagav1.PhaseSucceeded, string(o.UID), "37.50"
		o.Status.History = append(o.Status.History, sagav1.HistoryEntry{Event: "COMPLETED", Time: now})
	} else {
		set(sagav1.ConditionSucceeded, metav1.ConditionFalse)
		set(sagav1.ConditionCompensated, metav1.ConditionTrue)
		o.Status.Phase = sagav1.PhaseFailed
		o.Status.LastError = "reserve stock: 1 available, 2 asked (409 insufficient-stock)"
		o.Status.Steps = []sagav1.StepStatus{{Name: "LockCart", State: "Compensated"}, {Name: "ReserveStock", State: "Refused"}}
		o.Status.History = append(o.Status.History, sagav1.HistoryEntry{Event: "FAILED", Time: now, Message: o.Status.LastError})
	}
	e.must(e.admin.Status().Update(e.ctx, o))
	return o
}

// waiting reads the gateway's gauge of waiting requests.
func (e *env) waiting() string {
	_, _, b := e.do("GET", "/metrics", "", map[string]string{"Authorization": ""})
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "kubesaga_gateway_waiting_requests "); ok {
			return v
		}
	}
	return ""
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// body is an order for the test's cart in a store.
func body(store int64) string {
	return fmt.Sprintf(`{"cartId":%q,"storeId":%d}`, cart, store)
}

func TestGatewayAgainstTheAPIServer(t *testing.T) {
	e := startEnv(t)

	t.Run("bearer token", func(t *testing.T) {
		s, h, b := e.do("POST", "/api/orders", body(1), map[string]string{"Authorization": "", gateway.HeaderIdempotencyKey: "auth-1"})
		e.problem(res(s, h, b), http.StatusUnauthorized, httpapi.SlugUnauthorized)
		if !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("WWW-Authenticate = %q", h.Get("WWW-Authenticate"))
		}
		s, h, b = e.do("GET", "/api/orders/auth-1", "", map[string]string{"Authorization": "Bearer wrong-token-wrong-token"})
		if p := e.problem(res(s, h, b), http.StatusUnauthorized, httpapi.SlugUnauthorized); !strings.Contains(p.Detail, "gateway") {
			t.Errorf("a gateway client is told %q", p.Detail)
		}
		if s, _, _ := e.do("GET", "/healthz", "", map[string]string{"Authorization": ""}); s != http.StatusOK {
			t.Errorf("/healthz without a token: %d", s)
		}
		if e.orderCount() != 0 {
			t.Error("a refused request created an Order")
		}
	})

	t.Run("missing or bad key is 400", func(t *testing.T) {
		p := e.problem(res(e.post("", body(1), "")), http.StatusBadRequest, httpapi.SlugInvalidRequest)
		if p.Field != gateway.HeaderIdempotencyKey {
			t.Errorf("field = %q", p.Field)
		}
		p = e.problem(res(e.post(strings.Repeat("k", 300), body(1), "")), http.StatusBadRequest, httpapi.SlugInvalidRequest)
		if p.Field != gateway.HeaderIdempotencyKey {
			t.Errorf("field = %q", p.Field)
		}
	})

	t.Run("bad body is 400 naming the field, with the API server's message", func(t *testing.T) {
		cases := []struct{ body, field, says string }{
			{`{"cartId":"` + cart + `","storeId":1,"qty":2}`, "qty", "unknown field"},
			{`{"cartId":"` + cart + `","storeId":"1"}`, "storeId", "integer"},
			{`{"storeId":1}`, "cartId", "required"},
			{`{"cartId":"not-a-uuid","storeId":1}`, "cartId", "uuid"},          // the CRD's format: uuid
			{`{"cartId":"` + cart + `","storeId":0}`, "storeId", "equal to 1"}, // the CRD's minimum: 1
		}
		for i, c := range cases {
			p := e.problem(res(e.post(fmt.Sprintf("bad-%d", i), c.body, "")), http.StatusBadRequest, httpapi.SlugInvalidRequest)
			if p.Field != c.field || !strings.Contains(p.Detail, c.says) {
				t.Errorf("%s: field %q detail %q, want %s saying %q", c.body, p.Field, p.Detail, c.field, c.says)
			}
		}
		if e.orderCount() != 0 {
			t.Error("a refused body created an Order")
		}
	})

	var running []byte
	t.Run("202 while running, with a Location; a replay creates nothing", func(t *testing.T) {
		s, h, b := e.post("run-1", body(101), "?wait=0")
		if s != http.StatusAccepted || h.Get("Location") != "/api/orders/run-1" {
			t.Fatalf("status %d Location %q: %s", s, h.Get("Location"), b)
		}
		var v gateway.Order
		e.must(json.Unmarshal(b, &v))
		o := e.order("run-1")
		if v.Order != o.Name || v.UID != string(o.UID) || v.Phase != "Pending" || o.Spec.CartID != cart || o.Spec.StoreID != 101 {
			t.Errorf("answer %+v for Order %s/%s %+v", v, o.Name, o.UID, o.Spec)
		}
		if o.Annotations[sagav1.IdempotencyKeyAnnotation] != "run-1" ||
			o.Annotations[sagav1.RequestHashAnnotation] != (gateway.Request{CartID: cart, StoreID: 101}).Hash() {
			t.Errorf("annotations = %v", o.Annotations)
		}
		// The same order spelled differently is the same request.
		s, _, running = e.post("run-1", "{ \"storeId\": 101,\n \"cartId\": \""+cart+"\" }", "?wait=0")
		if s != http.StatusAccepted || e.orderCount() != 1 {
			t.Fatalf("replay: %d, %d Orders", s, e.orderCount())
		}
		if s, _, b := e.do("GET", "/api/orders/run-1", "", nil); s != http.StatusAccepted || string(b) != string(running) {
			t.Errorf("GET while running: %d %s", s, b)
		}
	})

	t.Run("same key, other body is 422", func(t *testing.T) {
		p := e.problem(res(e.post("run-1", body(102), "")), http.StatusUnprocessableEntity, httpapi.SlugIdempotencyMismatch)
		if p.Field != gateway.HeaderIdempotencyKey || !strings.Contains(p.Detail, "run-1") {
			t.Errorf("problem %+v", p)
		}
		if e.orderCount() != 1 {
			t.Error("a mismatch created an Order")
		}
	})

	t.Run("one watch wakes every waiting request: 201, and a replay is the same answer", func(t *testing.T) {
		const waiters = 4
		type answer struct {
			status int
			body   []byte
		}
		answers := make(chan answer, waiters+1)
		var wg sync.WaitGroup
		for range waiters {
			wg.Go(func() {
				s, _, b := e.post("hp-1", body(101), "?wait=30s")
				answers <- answer{s, b}
			})
		}
		e.eventually("the Order exists", func() bool {
			err := e.admin.Get(e.ctx, types.NamespacedName{Namespace: ns, Name: gateway.OrderName("hp-1")}, &sagav1.Order{})
			return err == nil
		})
		wg.Go(func() {
			s, _, b := e.do("GET", "/api/orders/hp-1?wait=30s", "", nil)
			answers <- answer{s, b}
		})
		e.eventually("every request waits", func() bool { return e.waiting() == fmt.Sprint(waiters+1) })
		o := e.finish("hp-1", true)
		wg.Wait()
		close(answers)
		var first []byte
		for a := range answers {
			var v gateway.Order
			e.must(json.Unmarshal(a.body, &v))
			if (a.status != http.StatusCreated && a.status != http.StatusOK) || v.Phase != "Succeeded" ||
				v.SaleID != string(o.UID) || v.Total != "37.50" || len(v.History) != 3 {
				t.Fatalf("answer %d %s, want the succeeded Order (a 202 means the watch did not wake the request)", a.status, a.body)
			}
			if a.status == http.StatusCreated {
				if first != nil && string(first) != string(a.body) {
					t.Errorf("two answers for one key: %s and %s", first, a.body)
				}
				first = a.body
			}
		}
		if e.orderCount() != 2 || e.waiting() != "0" {
			t.Errorf("%d Orders (want 2), %s waiting (want 0)", e.orderCount(), e.waiting())
		}
		s, _, b := e.post("hp-1", body(101), "")
		if s != http.StatusCreated || string(b) != string(first) {
			t.Errorf("replay: %d %s, want 201 %s", s, b, first)
		}
		// The reference system's path is the same operation.
		s, _, b = e.do("POST", "/api/orchestrator/", body(101), map[string]string{gateway.HeaderIdempotencyKey: "hp-1"})
		if s != http.StatusCreated || string(b) != string(first) {
			t.Errorf("POST /api/orchestrator/: %d %s", s, b)
		}
		if e.orderCount() != 2 {
			t.Errorf("replays created Orders: %d", e.orderCount())
		}
	})

	t.Run("a failed saga is 409 with lastError and the failed step", func(t *testing.T) {
		if s, _, b := e.post("rb-1", body(101), "?wait=0"); s != http.StatusAccepted {
			t.Fatalf("%d %s", s, b)
		}
		e.finish("rb-1", false)
		var p httpapi.Problem
		e.eventually("the watch delivered the failure", func() bool {
			s, h, b := e.do("GET", "/api/orders/rb-1", "", nil)
			if s != http.StatusConflict {
				return false
			}
			p = e.problem(res(s, h, b), http.StatusConflict, gateway.SlugSagaFailed)
			return true
		})
		if p.Extensions["failedStep"] != "ReserveStock" || !strings.Contains(fmt.Sprint(p.Extensions["lastError"]), "insufficient-stock") ||
			!strings.Contains(p.Detail, "insufficient-stock") {
			t.Errorf("problem %+v", p)
		}
		s, h, b := e.post("rb-1", body(101), "")
		again := e.problem(res(s, h, b), http.StatusConflict, gateway.SlugSagaFailed)
		if again.Detail != p.Detail {
			t.Errorf("replay: %+v", again)
		}
	})

	t.Run("GET of an unknown key is 404", func(t *testing.T) {
		e.problem(res(e.do("GET", "/api/orders/never-sent", "", nil)), http.StatusNotFound, httpapi.SlugNotFound)
	})

	t.Run("a rotated token applies without a restart", func(t *testing.T) {
		old, rotated := e.token, "gateway-rotated-token-fedcba9876543210"
		e.must(os.WriteFile(e.tokenFile, []byte(rotated+"\n"), 0o600))
		e.token = rotated
		e.eventually("the new token is accepted", func() bool { s, _, _ := e.do("GET", "/api/orders/hp-1", "", nil); return s == http.StatusOK })
		e.problem(res(e.do("GET", "/api/orders/hp-1", "", map[string]string{"Authorization": "Bearer " + old})), http.StatusUnauthorized, httpapi.SlugUnauthorized)
	})

	t.Run("OpenAPI document matches the served routes", func(t *testing.T) {
		scheme, err := gateway.Scheme()
		e.must(err)
		c, err := cache.New(e.cfg, cache.Options{Scheme: scheme, DefaultNamespaces: map[string]cache.Config{ns: {}}})
		e.must(err)
		g, err := gateway.New(e.ctx, nil, c, gateway.Options{Namespace: ns})
		e.must(err)
		openapitest.Check(t, filepath.Join("..", "..", "docs", "openapi", "gateway.yaml"), g.Routes(), func(method, path string) (int, []byte) {
			s, _, b := e.do(method, path, "", nil)
			return s, b
		})
	})
}

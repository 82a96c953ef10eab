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

package kubectlsaga_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/kubectlsaga"
	"github.com/kubesaga/kubesaga/services/carts"
)

// The plugin runs against a real API server (envtest) through a real kubeconfig file, as
// kubectl would run it; Orders get their status written the way the operator writes it
// (the status subresource), and the carts service is the real one on a real SQLite file.

var (
	kubeconfigPath string
	k8s            client.Client
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		fmt.Fprintln(os.Stderr, "KUBEBUILDER_ASSETS is not set: run `make envtest` and use `make test`")
		return 1
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "start envtest:", err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	user, err := env.AddUser(envtest.User{Name: "kubectl-saga-tests", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	kc, err := user.KubeConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "kubectl-saga-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	kubeconfigPath = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfigPath, kc, 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if k8s, err = client.New(rest.CopyConfig(cfg), client.Options{Scheme: kubectlsaga.Scheme()}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// plugin runs kubectl-saga with args and returns its exit code, stdout and stderr.
func plugin(ctx context.Context, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := kubectlsaga.Main(ctx, append(args, "--kubeconfig", kubeconfigPath), kubectlsaga.Streams{Out: &out, ErrOut: &errOut})
	return code, out.String(), errOut.String()
}

func namespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "saga-"}}
	if err := k8s.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

func newOrder(t *testing.T, ns, name string) *sagav1.Order {
	t.Helper()
	o := &sagav1.Order{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       sagav1.OrderSpec{CartID: uuid.NewString(), StoreID: 101},
	}
	if err := k8s.Create(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	return o
}

// setStatus writes conditions the way the operator's setConditions does for each outcome.
func setStatus(t *testing.T, o *sagav1.Order, outcome kubectlsaga.Outcome) {
	t.Helper()
	ctx := context.Background()
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(o), o); err != nil {
		t.Fatal(err)
	}
	set := func(typ string, st metav1.ConditionStatus, reason string) {
		meta.SetStatusCondition(&o.Status.Conditions, metav1.Condition{Type: typ, Status: st, Reason: reason, Message: "test",
			ObservedGeneration: o.Generation})
	}
	switch outcome {
	case kubectlsaga.InFlight:
		o.Status.Phase = sagav1.PhaseRunning
		set(sagav1.ConditionSucceeded, metav1.ConditionUnknown, "Running")
		set(sagav1.ConditionCompensated, metav1.ConditionFalse, "Running")
		set(sagav1.ConditionProgressing, metav1.ConditionTrue, "Running")
		set(sagav1.ConditionStalled, metav1.ConditionFalse, "NotStalled")
	case kubectlsaga.Succeeded:
		o.Status.Phase = sagav1.PhaseSucceeded
		set(sagav1.ConditionSucceeded, metav1.ConditionTrue, "Completed")
		set(sagav1.ConditionCompensated, metav1.ConditionFalse, "Completed")
		set(sagav1.ConditionProgressing, metav1.ConditionFalse, "Completed")
	case kubectlsaga.Failed:
		o.Status.Phase = sagav1.PhaseFailed
		o.Status.LastError = "ReserveStock: insufficient stock"
		set(sagav1.ConditionSucceeded, metav1.ConditionFalse, "InsufficientStock")
		set(sagav1.ConditionCompensated, metav1.ConditionTrue, "Compensated")
		set(sagav1.ConditionProgressing, metav1.ConditionFalse, "Compensated")
	case kubectlsaga.Stalled:
		o.Status.Phase = sagav1.PhaseStalled
		o.Status.LastError = "UnlockCart: refused"
		set(sagav1.ConditionStalled, metav1.ConditionTrue, "CompensationRefused")
		set(sagav1.ConditionProgressing, metav1.ConditionFalse, "Stalled")
	}
	if err := k8s.Status().Update(ctx, o); err != nil {
		t.Fatal(err)
	}
}

func TestStatusShowsStepsHistoryEventsAndParticipantEvents(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	o := newOrder(t, ns, "order-1")

	// The real carts service records business events for the Order's UID.
	svc, err := carts.Open(filepath.Join(t.TempDir(), "carts.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Close() })
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(srv.Close)
	post := func(path, body string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Correlation-ID", string(o.UID)) // as the operator sends it
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("POST %s: %s", path, resp.Status)
		}
	}
	post("/api/carts", fmt.Sprintf(`{"id":%q,"storeId":101,"lines":[{"productId":501,"quantity":3,"unitPrice":"12.50"}]}`, o.Spec.CartID))
	post("/api/carts/"+o.Spec.CartID+"/lock", fmt.Sprintf(`{"orderId":%q}`, o.UID))

	now := metav1.NewTime(time.Now().Truncate(time.Second))
	retry := metav1.NewTime(time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC))
	setStatus(t, o, kubectlsaga.InFlight)
	o.Status.CurrentStep = "ReserveStock"
	o.Status.Steps = []sagav1.StepStatus{
		{Name: "LockCart", State: "Succeeded", Attempts: 1},
		{Name: "ReserveStock", State: "Retrying", Attempts: 2, LastError: "stocks: 503 Service Unavailable", NextRetryAt: &retry},
	}
	o.Status.History = []sagav1.HistoryEntry{{Event: "ORDER_CREATED", Time: now}, {Event: "CART_LOCKED", Time: now}}
	if err := k8s.Status().Update(ctx, o); err != nil {
		t.Fatal(err)
	}
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "order-1."},
		InvolvedObject: corev1.ObjectReference{APIVersion: sagav1.GroupVersion.String(), Kind: "Order", Namespace: ns,
			Name: o.Name, UID: o.UID},
		Reason: "CartLocked", Message: "cart locked for the order", Type: corev1.EventTypeNormal,
		FirstTimestamp: now, LastTimestamp: now, Count: 1, Source: corev1.EventSource{Component: "kubesaga"},
	}
	if err := k8s.Create(ctx, ev); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := plugin(ctx, "status", "order-1", "-n", ns, "--carts-url", srv.URL)
	if code != kubectlsaga.ExitOK {
		t.Fatalf("status exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"Order:          " + ns + "/order-1", string(o.UID), "Phase:          Running", "Current step:   ReserveStock",
		"LockCart", "ReserveStock", "Retrying", "stocks: 503 Service Unavailable", "2031-02-03T04:05:06Z", // steps
		"ORDER_CREATED", "CART_LOCKED", // history
		"CartLocked", "cart locked for the order", // Kubernetes Events
		"Business events of carts", "CREATE_CART", "LOCK_CART", "SUCCESS", // the carts service, by correlation id
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Business events of stocks") {
		t.Errorf("status shows stocks events although no --stocks-url was given:\n%s", out)
	}

	// A participant that does not answer is reported, not fatal.
	code, out, _ = plugin(ctx, "status", "order-1", "-n", ns, "--sales-url", "http://127.0.0.1:1")
	if code != kubectlsaga.ExitOK || !strings.Contains(out, "Business events of sales:\n  (cannot read them:") {
		t.Errorf("status with an unreachable sales: exit %d\n%s", code, out)
	}

	code, _, errOut = plugin(ctx, "status", "no-such-order", "-n", ns)
	if code != kubectlsaga.ExitError || !strings.Contains(errOut, `order "no-such-order" not found in namespace "`+ns+`"`) {
		t.Errorf("status of a missing Order: exit %d, stderr %q", code, errOut)
	}
}

func TestRetrySetsATokenEachTime(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	o := newOrder(t, ns, "stuck")
	setStatus(t, o, kubectlsaga.Stalled)

	token := func() string {
		t.Helper()
		var got sagav1.Order
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(o), &got); err != nil {
			t.Fatal(err)
		}
		return got.Annotations[sagav1.RetryAnnotation]
	}
	code, out, errOut := plugin(ctx, "retry", "stuck", "-n", ns)
	if code != kubectlsaga.ExitOK {
		t.Fatalf("retry exit %d: %s", code, errOut)
	}
	first := token()
	if _, err := time.Parse(time.RFC3339Nano, first); err != nil {
		t.Fatalf("retry token %q is not a timestamp: %v", first, err)
	}
	if !strings.Contains(out, "order/stuck retry requested ("+sagav1.RetryAnnotation+"="+first+", phase was Stalled)") {
		t.Errorf("retry output: %q", out)
	}
	// status tells whether the operator has taken the token (status.lastHandledRetry).
	showsToken := func(state string) {
		t.Helper()
		code, out, errOut := plugin(ctx, "status", "stuck", "-n", ns)
		want := "Retry asked:    " + sagav1.RetryAnnotation + "=" + first + " (" + state + ")"
		if code != kubectlsaga.ExitOK || !strings.Contains(out, want) {
			t.Errorf("status: exit %d, want %q in:\n%s%s", code, want, out, errOut)
		}
	}
	showsToken("not handled yet")
	var got sagav1.Order
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(o), &got); err != nil {
		t.Fatal(err)
	}
	got.Status.LastHandledRetry = first
	if err := k8s.Status().Update(ctx, &got); err != nil {
		t.Fatal(err)
	}
	showsToken("handled")

	// A second retry changes the token, so an operator that recorded the first one acts again.
	for token() == first {
		if code, _, errOut := plugin(ctx, "retry", "stuck", "-n", ns); code != kubectlsaga.ExitOK {
			t.Fatalf("second retry exit %d: %s", code, errOut)
		}
	}
}

func TestWaitTellsTheOutcomeByExitCode(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	for _, tc := range []struct {
		outcome kubectlsaga.Outcome
		code    int
	}{
		{kubectlsaga.Succeeded, kubectlsaga.ExitOK},
		{kubectlsaga.Failed, kubectlsaga.ExitFailed},
		{kubectlsaga.Stalled, kubectlsaga.ExitStalled},
	} {
		t.Run(string(tc.outcome), func(t *testing.T) {
			name := strings.ToLower(string(tc.outcome))
			o := newOrder(t, ns, name)
			setStatus(t, o, kubectlsaga.InFlight)
			type result struct {
				code     int
				out, err string
			}
			done := make(chan result, 1)
			go func() {
				c, out, e := plugin(ctx, "wait", name, "-n", ns, "--timeout", "2m")
				done <- result{c, out, e}
			}()
			// Still in flight: wait has not returned (it returns only on a final state).
			select {
			case r := <-done:
				t.Fatalf("wait returned while the saga was in flight: exit %d %s%s", r.code, r.out, r.err)
			default:
			}
			setStatus(t, o, tc.outcome)
			r := <-done
			if r.code != tc.code {
				t.Fatalf("wait exit %d, want %d (%s%s)", r.code, tc.code, r.out, r.err)
			}
			if want := "order/" + name + " " + name + "\n"; r.out != want {
				t.Errorf("wait output %q, want %q", r.out, want)
			}
			// Already final: wait returns at once with the same code.
			if c, _, e := plugin(ctx, "wait", name, "-n", ns); c != tc.code {
				t.Errorf("wait on a final Order: exit %d, want %d (%s)", c, tc.code, e)
			}
		})
	}

	// An Order that never finishes: wait gives up at --timeout with exit code 1.
	newOrder(t, ns, "forever")
	code, _, errOut := plugin(ctx, "wait", "forever", "-n", ns, "--timeout", "1s")
	if code != kubectlsaga.ExitError || !strings.Contains(errOut, "timed out waiting for order "+ns+"/forever") {
		t.Errorf("wait past --timeout: exit %d, stderr %q", code, errOut)
	}
}

func TestListStalled(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	setStatus(t, newOrder(t, ns, "fine"), kubectlsaga.Succeeded)
	setStatus(t, newOrder(t, ns, "running"), kubectlsaga.InFlight)
	setStatus(t, newOrder(t, ns, "needs-a-person"), kubectlsaga.Stalled)
	other := namespace(t)
	setStatus(t, newOrder(t, other, "also-stuck"), kubectlsaga.Stalled)

	code, out, errOut := plugin(ctx, "list", "-n", ns)
	if code != kubectlsaga.ExitOK {
		t.Fatalf("list exit %d: %s", code, errOut)
	}
	for _, want := range []string{"fine", "Succeeded", "running", "Running", "needs-a-person", "Stalled"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = plugin(ctx, "list", "--stalled", "-n", ns)
	if code != kubectlsaga.ExitOK || !strings.Contains(out, "needs-a-person") || !strings.Contains(out, "UnlockCart: refused") ||
		strings.Contains(out, "fine") || strings.Contains(out, "running") || strings.Contains(out, "also-stuck") {
		t.Errorf("list --stalled -n %s: exit %d\n%s", ns, code, out)
	}
	code, out, _ = plugin(ctx, "list", "--stalled", "-A")
	if code != kubectlsaga.ExitOK || !strings.Contains(out, "needs-a-person") || !strings.Contains(out, "also-stuck") ||
		strings.Contains(out, "fine") {
		t.Errorf("list --stalled -A: exit %d\n%s", code, out)
	}
	empty := namespace(t)
	if code, out, _ = plugin(ctx, "list", "--stalled", "-n", empty); code != kubectlsaga.ExitOK ||
		out != "No stalled Orders in namespace "+empty+".\n" {
		t.Errorf("list --stalled in an empty namespace: exit %d %q", code, out)
	}
}

func TestUsageErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "a command is required"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"status"}, "status takes exactly one ORDER name, got 0 arguments"},
		{[]string{"wait", "a", "b"}, "wait takes exactly one ORDER name, got 2 arguments"},
		{[]string{"list", "x"}, "list takes no arguments"},
		{[]string{"list", "--no-such-flag"}, "unknown flag: --no-such-flag"},
	} {
		code, _, errOut := plugin(ctx, tc.args...)
		if code != kubectlsaga.ExitError || !strings.Contains(errOut, tc.want) {
			t.Errorf("kubectl saga %v: exit %d, stderr %q; want exit 1 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

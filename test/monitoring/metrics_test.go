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

// Package monitoring checks that the metrics the monitoring bundle (alerts, dashboard)
// relies on are exported by the real programs: the manager, run with leader election
// against a real API server (envtest), driving two real sagas (one succeeds, one is
// compensated) across the real carts, stocks and sales handlers; then each /metrics is
// scraped over HTTP.
package monitoring

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/controllers"
	"github.com/kubesaga/kubesaga/services/carts"
	"github.com/kubesaga/kubesaga/services/sales"
	"github.com/kubesaga/kubesaga/services/stocks"
)

var root = func() string {
	a, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		panic(err)
	}
	return a
}()

// usedMetrics reads testdata/monitoring-metrics.txt.
func usedMetrics(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "monitoring-metrics.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			names = append(names, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

// scrape fetches a /metrics page and returns its metric families.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return fams
}

// seriesNames are the names a query can use: histograms add _bucket, _sum and _count.
func seriesNames(fams map[string]*dto.MetricFamily) map[string]bool {
	out := map[string]bool{}
	for name, f := range fams {
		if len(f.GetMetric()) == 0 {
			continue
		}
		out[name] = true
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			out[name+"_bucket"], out[name+"_sum"], out[name+"_count"] = true, true, true
		case dto.MetricType_SUMMARY:
			out[name+"_sum"], out[name+"_count"] = true, true
		}
	}
	return out
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

type service struct {
	url   string
	close func()
}

func startService(t *testing.T, name string) service {
	t.Helper()
	db := filepath.Join(t.TempDir(), name+".db")
	var h http.Handler
	var closer io.Closer
	switch name {
	case "carts":
		s, err := carts.Open(db, nil)
		if err != nil {
			t.Fatal(err)
		}
		h, closer = s.Handler(), s
	case "stocks":
		s, err := stocks.Open(db, nil)
		if err != nil {
			t.Fatal(err)
		}
		h, closer = s.Handler(), s
	case "sales":
		s, err := sales.Open(db, nil)
		if err != nil {
			t.Fatal(err)
		}
		h, closer = s.Handler(), s
	}
	srv := httptest.NewServer(h)
	return service{url: srv.URL, close: func() { srv.Close(); _ = closer.Close() }}
}

func call(t *testing.T, method, url, body string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %s", method, url, resp.Status)
	}
}

func TestMonitoringMetricsAreExported(t *testing.T) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run `make envtest` and use `make test`")
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })

	svcs := map[string]service{}
	for _, name := range []string{"carts", "stocks", "sales"} {
		svcs[name] = startService(t, name)
		t.Cleanup(svcs[name].close)
	}
	// One cart that can be sold, one whose stock is short (its saga is compensated).
	happy, short := uuid.NewString(), uuid.NewString()
	call(t, http.MethodPut, svcs["stocks"].url+"/api/stocks/101/501", `{"quantity":15}`)
	call(t, http.MethodPut, svcs["stocks"].url+"/api/stocks/101/502", `{"quantity":1}`)
	call(t, http.MethodPost, svcs["carts"].url+"/api/carts",
		fmt.Sprintf(`{"id":%q,"storeId":101,"lines":[{"productId":501,"quantity":3,"unitPrice":"12.50"}]}`, happy))
	call(t, http.MethodPost, svcs["carts"].url+"/api/carts",
		fmt.Sprintf(`{"id":%q,"storeId":101,"lines":[{"productId":502,"quantity":2,"unitPrice":"3.00"}]}`, short))

	metricsAddr := freeAddr(t)
	var o controllers.ManagerOptions
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	o.BindFlags(fs)
	if err := fs.Parse([]string{
		"--carts-url=" + svcs["carts"].url, "--stocks-url=" + svcs["stocks"].url, "--sales-url=" + svcs["sales"].url,
		"--metrics-bind-address=" + metricsAddr, "--health-probe-bind-address=0",
		"--leader-elect=true", "--leader-election-namespace=default", "--log-format=text",
	}); err != nil {
		t.Fatal(err)
	}
	o.SkipNameValidation = true
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- controllers.RunManager(ctx, cfg, o) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})

	c, err := client.New(cfg, client.Options{Scheme: controllers.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	for name, cart := range map[string]string{"happy": happy, "short": short} {
		if err := c.Create(context.Background(), &sagav1.Order{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
			Spec:       sagav1.OrderSpec{CartID: cart, StoreID: 101},
		}); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]sagav1.OrderPhase{"happy": sagav1.PhaseSucceeded, "short": sagav1.PhaseFailed}
	deadline := time.Now().Add(2 * time.Minute) // a bound for a broken run, not a speed check
	for name, phase := range want {
		for {
			var got sagav1.Order
			if err := c.Get(context.Background(), client.ObjectKey{Namespace: "default", Name: name}, &got); err != nil {
				t.Fatal(err)
			}
			if got.Status.Phase == phase {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("order %s is %q, want %s: %+v", name, got.Status.Phase, phase, got.Status)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// The manager's /metrics: once it leads, the leader gauge is 1.
	var exported map[string]bool
	for {
		fams := scrape(t, "http://"+metricsAddr+"/metrics")
		exported = seriesNames(fams)
		if f := fams["leader_election_master_status"]; f != nil && len(f.GetMetric()) > 0 && f.GetMetric()[0].GetGauge().GetValue() == 1 {
			if orders := fams["kubesaga_orders"]; orders == nil || !hasSeries(orders, map[string]string{"phase": "Succeeded"}, 1) ||
				!hasSeries(orders, map[string]string{"phase": "Failed"}, 1) || !hasSeries(orders, map[string]string{"phase": "Running"}, 0) {
				t.Errorf("kubesaga_orders does not count the two Orders by phase: %v", orders)
			}
			if b := fams["kubesaga_build_info"]; b == nil || !hasSeries(b, map[string]string{"version": "dev"}, 1) {
				t.Errorf("kubesaga_build_info{version=\"dev\"} 1 missing: %v", b)
			}
			if a := fams["kubesaga_oldest_inflight_saga_age_seconds"]; a == nil || a.GetMetric()[0].GetGauge().GetValue() != 0 {
				t.Errorf("no saga is in flight, kubesaga_oldest_inflight_saga_age_seconds should be 0: %v", a)
			}
			// The short cart's stock was refused: the step metrics say so in our lower case.
			if d := fams["kubesaga_step_duration_seconds"]; d == nil || !hasLabels(d, map[string]string{"step": "ReserveStock",
				"action": "do", "outcome": "refusal"}) {
				t.Errorf(`kubesaga_step_duration_seconds{step="ReserveStock",action="do",outcome="refusal"} missing: %v`, d)
			}
			lowerCaseValues(t, "the manager", fams)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the manager never reported leader_election_master_status 1")
		}
		time.Sleep(100 * time.Millisecond)
	}
	for name, s := range svcs {
		fams := scrape(t, s.url+"/metrics")
		for n := range seriesNames(fams) {
			exported[n] = true
		}
		// The service is named by service_name, never "service" (which a ServiceMonitor
		// would turn into exported_service).
		for _, f := range fams {
			if !strings.HasPrefix(f.GetName(), "kubesaga_") {
				continue
			}
			for _, m := range f.GetMetric() {
				labels := map[string]string{}
				for _, l := range m.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				if _, bad := labels["service"]; bad {
					t.Errorf("%s of %s has a \"service\" label", f.GetName(), name)
				}
				if f.GetName() != "kubesaga_build_info" && labels["service_name"] != name {
					t.Errorf("%s of %s: service_name=%q", f.GetName(), name, labels["service_name"])
				}
			}
		}
		lowerCaseValues(t, name, fams)
	}
	for _, name := range usedMetrics(t) {
		if !exported[name] {
			t.Errorf("the monitoring bundle uses %s, which no binary exports", name)
		}
	}
	if t.Failed() {
		names := make([]string, 0, len(exported))
		for n := range exported {
			names = append(names, n)
		}
		slices.Sort(names)
		t.Logf("exported: %s", strings.Join(names, " "))
	}
}

// ourLabels are the labels whose values kubesaga makes up: lower case (docs/operations.md,
// "Label values"). phase, the failure reason and step names keep their API spelling.
var ourLabels = []string{"outcome", "action", "result"}

// lowerCaseValues checks the values of ourLabels on every kubesaga_ series.
func lowerCaseValues(t *testing.T, who string, fams map[string]*dto.MetricFamily) {
	t.Helper()
	for _, f := range fams {
		if !strings.HasPrefix(f.GetName(), "kubesaga_") {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if slices.Contains(ourLabels, l.GetName()) && l.GetValue() != strings.ToLower(l.GetValue()) {
					t.Errorf("%s: %s{%s=%q}: our label values are lower case", who, f.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}
}

// hasLabels: the family has a series with these labels (among others).
func hasLabels(f *dto.MetricFamily, labels map[string]string) bool {
	for _, m := range f.GetMetric() {
		n := 0
		for _, l := range m.GetLabel() {
			if v, ok := labels[l.GetName()]; ok && v == l.GetValue() {
				n++
			}
		}
		if n == len(labels) {
			return true
		}
	}
	return false
}

// hasSeries: the family has a series with these labels (among others) and this value.
func hasSeries(f *dto.MetricFamily, labels map[string]string, value float64) bool {
	for _, m := range f.GetMetric() {
		ok := true
		for k, v := range labels {
			found := false
			for _, l := range m.GetLabel() {
				found = found || (l.GetName() == k && l.GetValue() == v)
			}
			ok = ok && found
		}
		if ok && m.GetGauge().GetValue() == value {
			return true
		}
	}
	return false
}

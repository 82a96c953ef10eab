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

package inprocess_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kubesaga/kubesaga/internal/dev/inprocess"
	"github.com/kubesaga/kubesaga/internal/participants"
)

func TestRestartKeepsAddressAndData(t *testing.T) {
	set := inprocess.SetForTest(t)
	parts, err := set.Clients(participants.Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := parts.Stocks.SetStock(ctx, 1, 2, 7); err != nil {
		t.Fatal(err)
	}
	url := set.Stocks.URL()
	if err := set.Stocks.Stop(); err != nil || set.Stocks.Running() {
		t.Fatalf("stop: %v, running=%v", err, set.Stocks.Running())
	}
	if _, err := parts.Stocks.GetStock(ctx, 1, 2); !participants.IsTransient(err) {
		t.Fatalf("a stopped service must refuse connections (transient), got %v", err)
	}
	if err := set.Stocks.Start(); err != nil {
		t.Fatal(err)
	}
	if set.Stocks.URL() != url {
		t.Fatalf("restarted on %s, want the same address %s", set.Stocks.URL(), url)
	}
	if s, err := parts.Stocks.GetStock(ctx, 1, 2); err != nil || s.Quantity != 7 {
		t.Fatalf("after restart: %+v %v, want the stock kept on the same database", s, err)
	}
}

func TestInjectedFaults(t *testing.T) {
	svc := inprocess.ForTest(t, "sales")
	served := make(chan string, 10)
	svc.AfterServe(func(r *http.Request) { served <- r.Method + " " + r.URL.Path })
	svc.FailWith("GET /api/sales/", http.StatusServiceUnavailable)
	resp, err := http.Get(svc.URL() + "/api/sales/x")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("injected fault: %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	select {
	case got := <-served:
		t.Fatalf("a failed request must not be served, served %s", got)
	default:
	}
	svc.Heal()
	resp, err = http.Get(svc.URL() + "/api/sales/x")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if got := <-served; resp.StatusCode == http.StatusServiceUnavailable || !strings.HasPrefix(got, "GET /api/sales/") {
		t.Fatalf("after Heal: %s, served %q", resp.Status, got)
	}
}

func TestCloseDBAnswers5xx(t *testing.T) {
	svc := inprocess.ForTest(t, "stocks")
	if err := svc.CloseDB(); err != nil {
		t.Fatal(err)
	}
	st, err := participants.NewStocks(svc.URL(), nil, participants.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetStock(context.Background(), 1, 1, 1); !participants.IsTransient(err) {
		t.Fatalf("a service without its database must answer 5xx (transient), got %v", err)
	}
}

func TestUnknownServiceIsNamed(t *testing.T) {
	if _, err := inprocess.New("payments", t.TempDir()); err == nil || !strings.Contains(err.Error(), `"payments"`) {
		t.Fatalf("want an error naming the unknown service, got %v", err)
	}
}

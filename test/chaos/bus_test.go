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
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/dev/devstack"
	"github.com/kubesaga/kubesaga/internal/eventbus"
)

// The bus outage: the short form (go test ./...) runs 12 Orders and stops the bus for
// 5 s; make chaos sets KUBESAGA_CHAOS_BUS_ORDERS=50 and KUBESAGA_CHAOS_BUS_DOWN=30
// (seconds).
const (
	defaultBusOrders = 12
	defaultBusDown   = 5
)

// TestBusOutage kills the event bus (SIGKILL of bin/natsd) while Orders are created and
// brings it back after a while: every saga finishes regardless, and afterwards the
// stream holds every event of the services' logs and of the Orders' saga logs, each
// once, in each publisher's order.
func TestBusOutage(t *testing.T) {
	n := int(envInt(t, "KUBESAGA_CHAOS_BUS_ORDERS", defaultBusOrders))
	down := time.Duration(envInt(t, "KUBESAGA_CHAOS_BUS_DOWN", defaultBusDown)) * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	dir := filepath.Join(env.tmp, "bus")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	tokenFile := writeToken(t, dir)
	s, err := devstack.Start(ctx, devstack.Options{
		Dir: filepath.Join(dir, "stack"), BinDir: env.binDir, Kubeconfig: env.kubeconfig,
		ManagerArgs: managerArgs(), TokenFile: tokenFile, Bus: true, Log: testLog{t},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stopStack(t, s)
	w := planWorkload(rand.New(rand.NewPCG(uint64(n), 7)), "bus", n, 402)
	w.setUp(ctx, t, s, tokenFile)

	pace := max(100*time.Millisecond, 10*time.Second/time.Duration(n))
	if err := s.Kill(devstack.NATS, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	t.Logf("bus: natsd killed; creating %d Orders, one every %s; the bus comes back after %s", n, pace, down)
	back := make(chan error, 1)
	go func() {
		time.Sleep(down)
		back <- s.Restart(ctx, devstack.NATS)
	}()
	if err := w.create(ctx, pace); err != nil {
		t.Fatal(err)
	}
	if err := <-back; err != nil {
		t.Fatalf("bus: restart natsd: %v", err)
	}
	orders := w.drain(ctx, t, 3*time.Minute+time.Duration(n)*300*time.Millisecond)
	if v := w.check(ctx, t, orders); !v.ok() {
		w.report(ctx, t, v, orders)
		t.Fatalf("bus: saga invariants broken while the bus was down")
	}

	conn, err := eventbus.Connect(eventbus.Options{URL: s.NATSURL(), Name: "chaos"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Wait (bounded) until the stream holds as many events as were recorded; then count.
	var lost, dup, total int
	deadline := time.Now().Add(2 * time.Minute)
	for {
		lost, dup, total = compareBus(ctx, t, conn, s, w, orders)
		if lost == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	fmt.Printf("bus: orders=%d down=%s events=%d events_lost=%d events_duplicated=%d\n", n, down, total, lost, dup)
	if lost != 0 || dup != 0 {
		t.Errorf("bus: %d events lost, %d duplicated", lost, dup)
	}
}

// compareBus compares what was recorded (the services' event logs, the Orders'
// histories) with what the stream holds: events missing, events stored more than once,
// and the number recorded. It also checks the order of each publisher's events.
func compareBus(ctx context.Context, t *testing.T, conn *eventbus.Conn, s *devstack.Stack, w *workload, orders []sagav1.Order) (lost, dup, total int) {
	t.Helper()
	stored, err := eventbus.ReadAll(ctx, conn.JS, eventbus.FollowOptions{})
	if err != nil {
		t.Logf("bus: read the stream: %v", err)
		return 1, 0, 0
	}
	seen := map[string]int{}
	byPublisher := map[string][]string{} // service, or Order UID -> what the stream holds, in order
	for _, r := range stored {
		seen[r.Event.ID]++
		if seen[r.Event.ID] > 1 {
			dup++
			continue
		}
		var d struct{ Action, Event, Detail, UID string }
		_ = json.Unmarshal(r.Event.Data, &d)
		if d.UID != "" {
			byPublisher[d.UID] = append(byPublisher[d.UID], d.Event)
		} else {
			svc := strings.TrimPrefix(r.Event.Source, "/kubesaga/")
			byPublisher[svc] = append(byPublisher[svc], d.Action+" "+d.Detail)
		}
	}
	for i := range orders {
		o := &orders[i]
		var want []string
		for _, h := range o.Status.History {
			want = append(want, h.Event)
		}
		total += len(want)
		got := byPublisher[string(o.UID)]
		lost += max(0, len(want)-len(got))
		if len(got) == len(want) && strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("bus: order %s: stream %v, history %v", o.Name, got, want)
		}
	}
	for _, svc := range devstack.Services {
		want := serviceLog(ctx, t, s.URL(svc), w.token)
		total += len(want)
		got := byPublisher[svc]
		lost += max(0, len(want)-len(got))
		if len(got) == len(want) && strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("bus: %s: the stream's order differs from the log's", svc)
		}
	}
	return lost, dup, total
}

// serviceLog reads a service's whole event log (action and detail of each, in order).
func serviceLog(ctx context.Context, t *testing.T, base, token string) []string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/events?limit=1000", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var page struct {
		Items []struct{ Action, Detail string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	if len(page.Items) == 1000 {
		t.Fatalf("bus: %s holds more than 1000 events; the comparison reads at most 1000", base)
	}
	out := make([]string, len(page.Items))
	for i, e := range page.Items {
		out[i] = e.Action + " " + e.Detail
	}
	return out
}

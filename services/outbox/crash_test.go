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

package outbox_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kubesaga/kubesaga/internal/eventbus"
	"github.com/kubesaga/kubesaga/internal/eventbus/natsembed"
)

// cartsProcess is bin/carts running as its own process.
type cartsProcess struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
}

func buildCarts(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	bin := filepath.Join(t.TempDir(), "carts")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/carts")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/carts: %v: %s", err, out)
	}
	return bin
}

// startCarts runs the binary on a free port and waits for its "serving" log line.
func startCarts(t *testing.T, bin, db, natsURL string) *cartsProcess {
	t.Helper()
	cmd := exec.Command(bin, "--addr=127.0.0.1:0", "--db="+db, "--nats-url="+natsURL, "--log-format=json")
	cmd.Env = append(os.Environ(), "TOKEN_FILE=", "NATS_CREDS=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &cartsProcess{cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" {
				addr <- line.Addr
			}
		}
		_ = cmd.Wait()
		close(p.done)
	}()
	select {
	case a := <-addr:
		p.url = "http://" + a
	case <-p.done:
		t.Fatal("carts exited before serving")
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatal("carts did not serve within a minute")
	}
	t.Cleanup(p.kill)
	return p
}

// kill sends SIGKILL: no shutdown code runs.
func (p *cartsProcess) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

func (p *cartsProcess) post(t *testing.T, path, corr string, body any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, p.url+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Correlation-ID", corr)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("POST %s: %d %s", path, resp.StatusCode, out)
	}
}

// saga creates and locks one cart under correlation id corr: two business events.
func (p *cartsProcess) saga(t *testing.T, corr string) {
	t.Helper()
	cart := uuid.NewString()
	p.post(t, "/api/carts", corr, map[string]any{"id": cart, "storeId": 101,
		"lines": []map[string]any{{"productId": 501, "quantity": 3, "unitPrice": "12.50"}}})
	p.post(t, "/api/carts/"+cart+"/lock", corr, map[string]any{"orderId": uuid.NewString()})
}

func (p *cartsProcess) events(t *testing.T) []eventbus.ServiceData {
	t.Helper()
	resp, err := http.Get(p.url + "/api/events?limit=1000")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct{ Items []eventbus.ServiceData }
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	return page.Items
}

// A carts process is killed (SIGKILL) after committing events it could not publish
// (the bus was down); restarted, it publishes them, and a consumer sees every event
// of the service's log exactly once, in the log's order.
func TestKilledServiceRepublishesOnRestartWithoutDuplicates(t *testing.T) {
	bin := buildCarts(t)
	bus, err := natsembed.Start(natsembed.Options{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bus.Shutdown() })
	db := filepath.Join(t.TempDir(), "carts.db")
	conn, err := eventbus.Connect(eventbus.Options{URL: bus.URL(), Name: "test-consumer"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	// stored reads the stream; nil while the consumer's connection is not back yet.
	stored := func() []eventbus.Received {
		got, err := eventbus.ReadAll(ctx, conn.JS, eventbus.FollowOptions{})
		if err != nil {
			return nil
		}
		return got
	}

	p := startCarts(t, bin, db, bus.URL())
	for i := range 3 {
		p.saga(t, fmt.Sprintf("saga-%d", i))
	}
	waitFor(t, func() bool { return len(stored()) == 6 })

	bus.Shutdown() // commits go on; nothing can be published
	for i := 3; i < 8; i++ {
		p.saga(t, fmt.Sprintf("saga-%d", i))
	}
	want := p.events(t)
	if len(want) != 16 {
		t.Fatalf("the service logged %d events, want 16", len(want))
	}
	p.kill()

	if bus, err = bus.Restart(); err != nil {
		t.Fatal(err)
	}
	p = startCarts(t, bin, db, bus.URL())
	waitFor(t, func() bool { return len(stored()) >= 16 })
	p.saga(t, "saga-after")
	waitFor(t, func() bool { return len(stored()) >= 18 })
	want = p.events(t)

	got := stored()
	if len(got) != len(want) {
		t.Fatalf("the stream holds %d events, the service logged %d", len(got), len(want))
	}
	ids := map[string]bool{}
	for i, r := range got {
		if ids[r.Event.ID] {
			t.Fatalf("event %s delivered twice", r.Event.ID)
		}
		ids[r.Event.ID] = true
		var d eventbus.ServiceData
		if err := json.Unmarshal(r.Event.Data, &d); err != nil {
			t.Fatal(err)
		}
		if d != want[i] {
			t.Fatalf("stream event %d is %+v, the log's is %+v", i, d, want[i])
		}
	}
}

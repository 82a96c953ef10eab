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

package serve

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseConfigPrecedence(t *testing.T) {
	env := map[string]string{"ADDR": ":1", "STOCKS_ADDR": ":2", "DB": "/x.db", "LOG_FORMAT": "text"}
	c, err := ParseConfig("stocks", nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":2" || c.DB != "/x.db" || c.LogFormat != "text" {
		t.Fatalf("env config = %+v", c)
	}
	c, err = ParseConfig("stocks", []string{"--addr", ":3", "--db=/y.db"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || c.Addr != ":3" || c.DB != "/y.db" {
		t.Fatalf("flag config = %+v, %v", c, err)
	}
	c, err = ParseConfig("sales", nil, func(string) string { return "" }, io.Discard)
	if err != nil || c.Addr != ":8080" || c.DB != "data/sales.db" || c.LogFormat != "json" {
		t.Fatalf("default config = %+v, %v", c, err)
	}
	if _, err := ParseConfig("sales", []string{"--log-format", "xml"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Fatal("want error for --log-format xml")
	}
	if _, err := ParseConfig("sales", []string{"extra"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Fatal("want error for positional argument")
	}
}

type fakeService struct {
	closed atomic.Bool
	slow   chan struct{}
}

func (f *fakeService) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(f.slow)
			time.Sleep(200 * time.Millisecond)
		}
		_, _ = w.Write([]byte("ok"))
	})
}
func (f *fakeService) Close() error { f.closed.Store(true); return nil }

// TestRunDrainsInFlightRequestsThenCloses cancels the context (as SIGTERM does)
// while a request is running: the request must complete and the service close.
func TestRunDrainsInFlightRequestsThenCloses(t *testing.T) {
	svc := &fakeService{slow: make(chan struct{})}
	var logs bytes.Buffer
	logger := NewLogger("json", "test", &logs)
	ctx, cancel := context.WithCancel(context.Background())
	addrCh := make(chan net.Addr, 1)
	done := make(chan error, 1)
	cfg := Config{Addr: "127.0.0.1:0", DB: filepath.Join(t.TempDir(), "x.db"), LogFormat: "json", ShutdownTimeout: 5 * time.Second}
	go func() {
		done <- Run(ctx, cfg, logger, func(string, *slog.Logger) (Service, error) { return svc, nil },
			func(a net.Addr) { addrCh <- a })
	}()
	addr := <-addrCh
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + addr.String() + "/slow")
		if err != nil {
			got <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- string(b)
	}()
	<-svc.slow
	cancel()
	if body := <-got; body != "ok" {
		t.Fatalf("in-flight request got %q", body)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	if !svc.closed.Load() {
		t.Fatal("service not closed")
	}
	if !bytes.Contains(logs.Bytes(), []byte(`"msg":"serving"`)) || !bytes.Contains(logs.Bytes(), []byte(`"addr":"127.0.0.1:`)) || !bytes.Contains(logs.Bytes(), []byte(`"db":"`)) {
		t.Fatalf("start line missing address or database:\n%s", logs.String())
	}
}

func TestTokenFileConfig(t *testing.T) {
	env := map[string]string{"TOKEN_FILE": "/a", "CARTS_TOKEN_FILE": "/b"}
	c, err := ParseConfig("carts", nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil || c.TokenFile != "/b" || c.Name != "carts" {
		t.Fatalf("env config = %+v, %v", c, err)
	}
	c, err = ParseConfig("sales", []string{"--token-file=/c"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || c.TokenFile != "/c" {
		t.Fatalf("flag config = %+v, %v", c, err)
	}
	if c, _ := ParseConfig("sales", nil, func(string) string { return "" }, io.Discard); c.TokenFile != "" {
		t.Fatalf("default token file %q", c.TokenFile)
	}
	// A token file that cannot be read stops the start: a service never runs open by mistake.
	cfg := Config{Name: "carts", Addr: "127.0.0.1:0", DB: filepath.Join(t.TempDir(), "x.db"), TokenFile: filepath.Join(t.TempDir(), "absent")}
	err = Run(context.Background(), cfg, slog.New(slog.DiscardHandler), func(string, *slog.Logger) (Service, error) {
		return &fakeService{slow: make(chan struct{})}, nil
	}, func(net.Addr) { t.Error("listening with an unreadable token file") })
	if err == nil {
		t.Fatal("Run started with an unreadable token file")
	}
}

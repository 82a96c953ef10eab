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

package inprocess

import (
	"bytes"
	"context"
	"io"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kubesaga/kubesaga/services/serve"
)

// TokenCheckInterval is how often a service run by AsBinary re-reads its token file:
// short, so that a rotation applies within a test's patience.
const TokenCheckInterval = 10 * time.Millisecond

// Binary is how AsBinary runs a service.
type Binary struct {
	// DB is the SQLite file; default <name>.db in a temporary directory of the test.
	DB string
	// TokenFile is the bearer token file (--token-file); empty runs without.
	TokenFile string
	// Logs receives the service's JSON log lines; nil discards them.
	Logs io.Writer
}

// LogBuffer collects the log lines of a service's concurrent handlers.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what was written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// AsBinary runs the named service as its binary does (serve.Run: the real listener,
// middleware and token check) in this process until the test ends, and returns its base URL.
func AsBinary(t testing.TB, name string, b Binary) string {
	t.Helper()
	open, err := Open(name)
	if err != nil {
		t.Fatal(err)
	}
	if b.Logs == nil {
		b.Logs = io.Discard
	}
	if b.DB == "" {
		b.DB = filepath.Join(t.TempDir(), name+".db")
	}
	cfg := serve.Config{Name: name, Addr: "127.0.0.1:0", DB: b.DB, LogFormat: "json", ShutdownTimeout: 5 * time.Second,
		TokenFile: b.TokenFile, TokenCheckInterval: TokenCheckInterval}
	ctx, cancel := context.WithCancel(context.Background())
	addr, done := make(chan net.Addr, 1), make(chan error, 1)
	go func() {
		done <- serve.Run(ctx, cfg, serve.NewLogger("json", name, b.Logs), open, func(a net.Addr) { addr <- a })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve.Run %s: %v", name, err)
		}
	})
	select {
	case a := <-addr:
		return "http://" + a.String()
	case err := <-done:
		t.Fatalf("serve.Run %s: %v", name, err)
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not start within 10s", name)
	}
	return ""
}

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

package faultproxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestProxyForwardsDelaysAndRefuses(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, "pong")
	}))
	defer srv.Close()
	p, err := Start("127.0.0.1:0", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Close() }()
	client := &http.Client{Timeout: 300 * time.Millisecond}
	get := func() (string, error) {
		resp, err := client.Get(p.URL() + "/ping")
		if err != nil {
			return "", err
		}
		defer func() { _ = resp.Body.Close() }()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}

	if body, err := get(); err != nil || body != "pong" {
		t.Fatalf("plain: %q, %v", body, err)
	}

	p.SetDelay(600 * time.Millisecond)
	if _, err := get(); err == nil {
		t.Fatal("a call through a proxy slower than the client's timeout succeeded")
	}
	// The delayed request still reaches the upstream, late: the effect of a timed-out call.
	deadline := time.Now().Add(3 * time.Second)
	for hits.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if hits.Load() != 2 {
		t.Fatalf("upstream hits = %d, want 2 (the late request arrives)", hits.Load())
	}
	if _, delayed := p.Stats(); delayed == 0 {
		t.Fatal("no chunk counted as delayed")
	}

	p.SetDelay(0)
	p.SetRefuse(true)
	if _, err := get(); err == nil {
		t.Fatal("a refusing proxy answered")
	}
	p.SetRefuse(false)
	if body, err := get(); err != nil || body != "pong" {
		t.Fatalf("after refusing: %q, %v", body, err)
	}
}

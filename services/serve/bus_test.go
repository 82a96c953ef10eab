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
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNATSFlags(t *testing.T) {
	env := map[string]string{"NATS_URL": "nats://shared:4222", "CARTS_NATS_URL": "nats://carts-only:4222"}
	getenv := func(k string) string { return env[k] }
	c, err := ParseConfig("carts", nil, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.NATS.URL != "nats://carts-only:4222" {
		t.Fatalf("NATS URL %q: the service's own variable wins", c.NATS.URL)
	}
	c, err = ParseConfig("stocks", []string{"--nats-url=nats://flag:4222"}, getenv, io.Discard)
	if err != nil || c.NATS.URL != "nats://flag:4222" {
		t.Fatalf("flag: %q, %v", c.NATS.URL, err)
	}
	c, err = ParseConfig("sales", nil, func(string) string { return "" }, io.Discard)
	if err != nil || c.NATS.Enabled() {
		t.Fatalf("no bus by default: %+v, %v", c.NATS, err)
	}

	_, err = ParseConfig("sales", []string{"--nats-creds=x.creds"}, func(string) string { return "" }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--nats-creds") || !strings.Contains(err.Error(), "--nats-url") {
		t.Fatalf("credentials without a URL: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "none.creds")
	_, err = ParseConfig("sales", []string{"--nats-url=nats://x:4222", "--nats-creds=" + missing}, func(string) string { return "" }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--nats-creds") {
		t.Fatalf("missing credentials file: %v", err)
	}
	creds := filepath.Join(t.TempDir(), "ok.creds")
	if err := os.WriteFile(creds, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err = ParseConfig("sales", []string{"--nats-url=nats://x:4222", "--nats-creds=" + creds}, func(string) string { return "" }, io.Discard); err != nil {
		t.Fatal(err)
	}
}

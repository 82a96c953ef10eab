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

package eventscli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kubesaga/kubesaga/internal/eventbus"
	"github.com/kubesaga/kubesaga/internal/eventbus/natsembed"
)

func TestNoFollowPrintsTheStreamFilteredByCorrelationID(t *testing.T) {
	srv, err := natsembed.Start(natsembed.Options{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	conn, err := eventbus.Connect(eventbus.Options{URL: srv.URL()}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	if _, err := eventbus.EnsureStream(ctx, conn.JS); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	publish := func(id, service, action, corr string, data any) {
		e, err := eventbus.New(id, "/test", service, action, corr, at, data)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := eventbus.Publish(ctx, conn.JS, eventbus.Subject(service, action), e); err != nil {
			t.Fatal(err)
		}
	}
	publish("u1-0", "orders", "ORDER_CREATED", "u1", eventbus.OrderData{Event: "ORDER_CREATED", Namespace: "default", Name: "a", UID: "u1"})
	publish("c-1", "carts", "LOCK_CART", "u1", eventbus.ServiceData{Action: "LOCK_CART", Outcome: "SUCCESS", CorrelationID: "u1", Detail: "locked"})
	publish("u2-0", "orders", "ORDER_CREATED", "u2", eventbus.OrderData{Event: "ORDER_CREATED", Namespace: "default", Name: "b", UID: "u2"})
	publish("c-1", "carts", "LOCK_CART", "u1", eventbus.ServiceData{Action: "LOCK_CART"}) // a republish: dropped

	o, err := Parse([]string{"--nats-url=" + srv.URL(), "--correlation-id=u1", "--no-follow"}, func(string) string { return "" }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Run(ctx, o, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "ORDER_CREATED") || !strings.Contains(lines[0], "default/a") ||
		!strings.Contains(lines[1], "LOCK_CART") || !strings.Contains(lines[1], "SUCCESS") || !strings.Contains(lines[1], "locked") {
		t.Fatalf("output:\n%s", out.String())
	}

	o.JSON, o.CorrelationID = true, ""
	out.Reset()
	if err := Run(ctx, o, &out); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, 3)
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var e eventbus.CloudEvent
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		ids = append(ids, e.ID)
	}
	if strings.Join(ids, ",") != "u1-0,c-1,u2-0" {
		t.Fatalf("ids %v, want u1-0,c-1,u2-0", ids)
	}
}

func TestParseRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--nats-url="},
		{"--subject=other.>"},
		{"--timeout=0s"},
		{"extra"},
	} {
		if _, err := Parse(args, func(string) string { return "" }, &bytes.Buffer{}); err == nil {
			t.Errorf("Parse(%v) accepted", args)
		}
	}
}

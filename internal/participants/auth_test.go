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

package participants_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kubesaga/kubesaga/internal/dev/inprocess"
	"github.com/kubesaga/kubesaga/internal/participants"
	"github.com/kubesaga/kubesaga/services/carts"
	"github.com/kubesaga/kubesaga/services/stocks"
)

func writeToken(t *testing.T, path, content string) {
	t.Helper()
	// Like the kubelet: write aside, then rename, so no reader sees half a file.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func fixed(tok string) func() (string, error) { return func() (string, error) { return tok, nil } }

// wantUnauthorized checks the operator's classification of a 401: transient (the
// saga retries and never fails an order or counts a compensation as done because
// of credentials), wrapping ErrUnauthorized, never repeating a token.
func wantUnauthorized(t *testing.T, err error, tokens ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("call without the right token succeeded")
	}
	if !errors.Is(err, participants.ErrUnauthorized) || !participants.IsTransient(err) || participants.IsRefusal(err) {
		t.Fatalf("err = %v (%T): want a transient ErrUnauthorized, not a refusal", err, err)
	}
	for _, tok := range tokens {
		if strings.Contains(err.Error(), tok) {
			t.Fatalf("error %q repeats a token", err)
		}
	}
}

func TestClientsAuthenticate(t *testing.T) {
	const tok, wrong = "7e1f0c2b9a8d4e6f7e1f0c2b9a8d4e6f", "0000000000000000ffffffffffffffff"
	file := filepath.Join(t.TempDir(), "token")
	writeToken(t, file, tok+"\n")
	logs := &inprocess.LogBuffer{}
	url := inprocess.AsBinary(t, carts.Name, inprocess.Binary{TokenFile: file, Logs: logs})

	ok, err := participants.NewCarts(url, nil, participants.Options{Timeout: 2 * time.Second, TokenFunc: participants.TokenFile(file)})
	if err != nil {
		t.Fatal(err)
	}
	none, _ := participants.NewCarts(url, nil, participants.Options{Timeout: 2 * time.Second})
	bad, _ := participants.NewCarts(url, nil, participants.Options{Timeout: 2 * time.Second, TokenFunc: fixed(wrong)})

	order := uuid.NewString()
	ctx := participants.WithCorrelationID(context.Background(), order)
	lines := []participants.Line{{ProductID: 1, Quantity: 2, UnitPrice: "3.50"}}

	refusedID := uuid.NewString()
	_, err = none.Create(ctx, refusedID, 7, lines)
	wantUnauthorized(t, err, tok, wrong)
	_, err = bad.Create(ctx, refusedID, 7, lines)
	wantUnauthorized(t, err, tok, wrong)
	_, err = bad.Get(ctx, refusedID)
	wantUnauthorized(t, err, tok, wrong)
	_, err = none.Events(ctx, order)
	wantUnauthorized(t, err, tok, wrong)

	// Nothing was written by the refused calls.
	if _, err := ok.Get(ctx, refusedID); participants.RefusalType(err) != "not-found" {
		t.Fatalf("cart created by an unauthenticated call: %v", err)
	}
	if evs, err := ok.Events(ctx, order); err != nil || len(evs) != 0 {
		t.Fatalf("events after refused calls: %v, %v", evs, err)
	}

	// The authenticated client runs the cart's whole saga part.
	cart, err := ok.Create(ctx, uuid.NewString(), 7, lines)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ok.Lock(ctx, cart.ID, order); err != nil {
		t.Fatal(err)
	}
	if err := none.Unlock(ctx, cart.ID, order); err == nil {
		t.Fatal("unlock without a token succeeded")
	}
	if got, err := ok.Checkout(ctx, cart.ID, order); err != nil || got.Status != "CHECKED_OUT" {
		t.Fatalf("checkout: %+v, %v", got, err)
	}

	if s := logs.String(); strings.Contains(s, tok) || strings.Contains(s, wrong) {
		t.Fatalf("a token appears in the service's log:\n%s", s)
	} else if !strings.Contains(s, "request refused") {
		t.Fatalf("refusals not logged:\n%s", s)
	}
}

// TestRotationWithoutRestart shares one token file between the operator's client
// and a service, as one mounted Secret would be, and rotates it.
func TestRotationWithoutRestart(t *testing.T) {
	const old, next = "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "f9e8d7c6b5a493827160f5e4d3c2b1a0"
	file := filepath.Join(t.TempDir(), "token")
	writeToken(t, file, old)
	logs := &inprocess.LogBuffer{}
	url := inprocess.AsBinary(t, stocks.Name, inprocess.Binary{TokenFile: file, Logs: logs})
	client := func(tf func() (string, error)) stocksClient {
		c, err := participants.NewStocks(url, nil, participants.Options{Timeout: 2 * time.Second, TokenFunc: tf})
		if err != nil {
			t.Fatal(err)
		}
		return stocksClient{c}
	}
	c, stale, fresh := client(participants.TokenFile(file)), client(fixed(old)), client(fixed(next))
	ctx := context.Background()
	if err := c.set(ctx, 10); err != nil {
		t.Fatal(err)
	}

	// Phase 1 of a rotation without refused calls: both listed, the old one first.
	writeToken(t, file, old+"\n"+next+"\n")
	eventually(t, func() error { return fresh.set(ctx, 11) })
	if err := stale.set(ctx, 12); err != nil {
		t.Fatalf("old token refused while still listed: %v", err)
	}
	if err := c.set(ctx, 13); err != nil {
		t.Fatal(err)
	}
	// Last phase: only the new token. The old one is refused, the shared-file client
	// follows without a restart.
	writeToken(t, file, next+"\n")
	eventually(t, func() error {
		if err := stale.set(ctx, 14); !errors.Is(err, participants.ErrUnauthorized) {
			return errors.New("old token still accepted")
		}
		return nil
	})
	if err := c.set(ctx, 15); err != nil {
		t.Fatalf("client re-reading the file: %v", err)
	}
	if got, err := c.GetStock(ctx, 1, 1); err != nil || got.Quantity != 15 {
		t.Fatalf("level = %+v, %v; want 15 (the refused 14 must not be applied)", got, err)
	}
	if s := logs.String(); strings.Contains(s, old) || strings.Contains(s, next) {
		t.Fatalf("a token appears in the service's log:\n%s", s)
	}
}

type stocksClient struct{ *participants.Stocks }

func (s stocksClient) set(ctx context.Context, q int64) error {
	_, err := s.SetStock(ctx, 1, 1, q)
	return err
}

func eventually(t *testing.T, f func() error) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTokenFile(t *testing.T) {
	dir := t.TempDir()
	for content, want := range map[string]string{
		"abc\n": "abc", "  abc  \r\n": "abc", "\n\nfirst\nsecond\n": "first", "": "", " \n ": "",
	} {
		p := filepath.Join(dir, "t")
		writeToken(t, p, content)
		got, err := participants.TokenFile(p)()
		if got != want || (want == "") != (err != nil) {
			t.Errorf("TokenFile(%q) = %q, %v; want %q", content, got, err, want)
		}
	}
	if _, err := participants.TokenFile(filepath.Join(dir, "absent"))(); err == nil {
		t.Error("missing file: no error")
	}
}

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

package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/kubesaga/kubesaga/internal/dev/devstack"
	"github.com/kubesaga/kubesaga/internal/gateway"
	"github.com/kubesaga/kubesaga/services/httpapi"
)

// The reference walkthrough over HTTP, through the gateway, on data of its own so that
// the sample Orders and it do not share a product or a cart.
const (
	ProductHP = 601 // stock 15; cart C takes 3 at 12.50: hp-1
	ProductRB = 602 // stock 1; cart D wants 2 at 4.00: rb-1
	StockHP   = 15
	StockRB   = 1
	CartC     = "c0ffee00-0000-4000-8000-00000000000c"
	CartD     = "c0ffee00-0000-4000-8000-00000000000d"
	KeyHP     = "hp-1"
	// PriceHP is cart C's unit price, which the sale must carry (the reference sold at 0.00).
	PriceHP = "12.50"
	KeyRB   = "rb-1"
)

// gatewayCall is one request of the walkthrough: printed as the curl command that does
// the same, sent, and its answer printed.
type gatewayCall struct {
	method, path, key, body string
}

func (c gatewayCall) curl() string {
	var b strings.Builder
	fmt.Fprintf(&b, `curl -sS -i -X %s "$GATEWAY_URL%s"`, c.method, c.path)
	if c.key != "" {
		fmt.Fprintf(&b, ` -H 'Idempotency-Key: %s'`, c.key)
	}
	if c.body != "" {
		fmt.Fprintf(&b, ` -H 'Content-Type: application/json' -d '%s'`, c.body)
	}
	return b.String()
}

type gatewayReply struct {
	status   int
	location string
	body     []byte
}

func (o *Options) callGateway(ctx context.Context, base string, c gatewayCall) (gatewayReply, error) {
	_, _ = fmt.Fprintf(o.Out, "$ %s\n", c.curl())
	var rd io.Reader
	if c.body != "" {
		rd = strings.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, base+c.path, rd)
	if err != nil {
		return gatewayReply{}, err
	}
	if c.key != "" {
		req.Header.Set(gateway.HeaderIdempotencyKey, c.key)
	}
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return gatewayReply{}, fmt.Errorf("%s %s: %w", c.method, c.path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return gatewayReply{}, err
	}
	r := gatewayReply{status: resp.StatusCode, location: resp.Header.Get("Location"), body: body}
	_, _ = fmt.Fprintf(o.Out, "HTTP %s\n", resp.Status)
	if r.location != "" {
		_, _ = fmt.Fprintf(o.Out, "Location: %s\n", r.location)
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, body, "", "  ") == nil {
		_, _ = fmt.Fprintf(o.Out, "%s\n", pretty.Bytes())
	}
	return r, nil
}

// order posts a checkout and, while the saga still runs (202), follows the Location
// with ?wait=, as a client of the reference system's synchronous API would retry.
func (o *Options) order(ctx context.Context, base, key, body string) (gatewayReply, error) {
	r, err := o.callGateway(ctx, base, gatewayCall{method: http.MethodPost, path: "/api/orders", key: key, body: body})
	for err == nil && r.status == http.StatusAccepted {
		r, err = o.callGateway(ctx, base, gatewayCall{method: http.MethodGet, path: r.location + "?wait=30s"})
	}
	return r, err
}

// walkthrough replays the reference system's walkthrough over HTTP (docs/gateway.md):
// hp-1 succeeds (stock 15 -> 12, one sale at the cart's unit price), hp-1 again is
// the same answer and still one sale, rb-1 (stock 1, quantity 2) rolls back (409
// insufficient-stock, the cart OPEN again, the stock still 1).
func walkthrough(ctx context.Context, o *Options, s *devstack.Stack) error {
	base := s.GatewayURL()
	if base == "" {
		return errors.New("the demo stack has no gateway")
	}
	c, err := newClients(s)
	if err != nil {
		return err
	}
	if err := seedStore(ctx, c, []stockSeed{{ProductHP, StockHP}, {ProductRB, StockRB}},
		[]cartSeed{{CartC, ProductHP, 3, PriceHP}, {CartD, ProductRB, 2, "4.00"}}); err != nil {
		return err
	}
	_, _ = fmt.Fprintln(o.Out)
	o.say("the reference walkthrough over HTTP, through the gateway (GATEWAY_URL=%s)", base)
	o.say("hp-1: cart %s takes 3 x product %d at %s; the store has %d", CartC, ProductHP, PriceHP, StockHP)
	hpBody := fmt.Sprintf(`{"cartId":"%s","storeId":%d}`, CartC, StoreID)
	first, err := o.order(ctx, base, KeyHP, hpBody)
	if err != nil {
		return err
	}
	var hp gateway.Order
	if first.status != http.StatusCreated || json.Unmarshal(first.body, &hp) != nil || hp.Phase != "Succeeded" {
		return fmt.Errorf("hp-1: HTTP %d, want 201 with phase Succeeded: %s", first.status, first.body)
	}
	sales, err := saleLines(ctx, c, hp.UID)
	if err != nil {
		return err
	}
	if err := o.expectStock(ctx, c, ProductHP, StockHP-3); err != nil {
		return err
	}
	o.say("one sale for this Order: %s", sales)

	o.say("hp-1 again, the same key and body: the same answer, nothing new")
	again, err := o.callGateway(ctx, base, gatewayCall{method: http.MethodPost, path: "/api/orders", key: KeyHP, body: hpBody})
	if err != nil {
		return err
	}
	if again.status != first.status || !bytes.Equal(again.body, first.body) {
		return fmt.Errorf("hp-1 replayed: HTTP %d %s, want the first answer", again.status, again.body)
	}
	if _, err := saleLines(ctx, c, hp.UID); err != nil {
		return err
	}
	if err := o.expectStock(ctx, c, ProductHP, StockHP-3); err != nil {
		return err
	}
	o.say("the same answer byte for byte; still one sale")

	o.say("rb-1: cart %s wants 2 x product %d; the store has %d", CartD, ProductRB, StockRB)
	rb, err := o.order(ctx, base, KeyRB, fmt.Sprintf(`{"cartId":"%s","storeId":%d}`, CartD, StoreID))
	if err != nil {
		return err
	}
	var p httpapi.Problem
	if rb.status != http.StatusConflict || json.Unmarshal(rb.body, &p) != nil || p.Slug() != gateway.SlugSagaFailed ||
		!strings.Contains(p.Detail, "insufficient-stock") {
		return fmt.Errorf("rb-1: HTTP %d, want 409 saga-failed with insufficient-stock: %s", rb.status, rb.body)
	}
	cart, err := c.carts.Get(ctx, CartD)
	if err != nil {
		return err
	}
	if cart.Status != "OPEN" {
		return fmt.Errorf("rb-1: cart %s is %s, want OPEN (unlocked by the compensation)", CartD, cart.Status)
	}
	if err := o.expectStock(ctx, c, ProductRB, StockRB); err != nil {
		return err
	}
	o.say("rolled back: cart %s is %s, no sale", CartD, cart.Status)
	return nil
}

// saleLines describes the one sale of an Order, and fails unless there is exactly
// one, carrying the cart's real unit price.
func saleLines(ctx context.Context, c clients, orderUID string) (string, error) {
	sales, err := c.sales.List(ctx, StoreID, orderUID)
	if err != nil {
		return "", err
	}
	if len(sales) != 1 {
		return "", fmt.Errorf("order %s has %d sales, want 1", orderUID, len(sales))
	}
	s := sales[0]
	if len(s.Lines) != 1 || s.Lines[0].UnitPrice != PriceHP || s.Lines[0].Quantity != 3 {
		return "", fmt.Errorf("sale %s has lines %+v, want 3 x product %d at %s", s.ID, s.Lines, ProductHP, PriceHP)
	}
	return fmt.Sprintf("sale %s, 3 x product %d at %s, total %s", s.ID, ProductHP, s.Lines[0].UnitPrice, s.Total), nil
}

func (o *Options) expectStock(ctx context.Context, c clients, product, want int64) error {
	st, err := c.stocks.GetStock(ctx, StoreID, product)
	if err != nil {
		return err
	}
	_, _ = fmt.Fprintf(o.Out, "$ curl -sS $STOCKS_URL/api/stocks/%d/%d    # quantity %d\n", StoreID, product, st.Quantity)
	if st.Quantity != want {
		return fmt.Errorf("product %d: stock %d, want %d", product, st.Quantity, want)
	}
	return nil
}

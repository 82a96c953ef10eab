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
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/kubesaga/kubesaga/internal/dev/devstack"
	"github.com/kubesaga/kubesaga/internal/participants"
)

// The data of the Saga sample (config/samples/saga_v1alpha1_saga_direct_sale.yaml and
// docs/sagas.md): a direct sale of 2 units of product 503 at 3.20.
const (
	ProductC   = 503 // stock 10; the direct-sale Saga takes 2
	StockC     = 10
	DirectSale = "direct-sale-1"
)

// sagasBefore seeds the Saga sample's product and declares the demo's services as
// Participants (their URLs are the demo's ports), before the samples are applied.
func (o *Options) sagasBefore(ctx context.Context, s *devstack.Stack) error {
	c, err := newClients(s)
	if err != nil {
		return err
	}
	_, err = c.stocks.GetStock(ctx, StoreID, ProductC)
	var r *participants.Refusal
	switch {
	case err == nil: // seeded by an earlier run
	case errors.As(err, &r) && r.Status == http.StatusNotFound:
		if _, err := c.stocks.SetStock(ctx, StoreID, ProductC, StockC); err != nil {
			return fmt.Errorf("seeding the stock of product %d: %w", ProductC, err)
		}
	default:
		return fmt.Errorf("reading the stock of product %d: %w", ProductC, err)
	}
	doc := ""
	for _, p := range [][2]string{{"carts", s.CartsURL()}, {"stocks", s.StocksURL()}, {"sales", s.SalesURL()}} {
		doc += fmt.Sprintf("apiVersion: saga.kubesaga.io/v1alpha1\nkind: Participant\nmetadata:\n  name: %s\nspec:\n  url: %s\n---\n", p[0], p[1])
	}
	path := filepath.Join(o.stackDir(), "participants.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		return err
	}
	o.say("declaring the services as Participants, for Sagas (docs/sagas.md)")
	return o.kubectlShow(ctx, "apply", "-f", path)
}

// sagasAfter waits for the sample Saga and shows it.
func (o *Options) sagasAfter(ctx context.Context, timeout string) error {
	o.say("waiting for the Saga of the direct-sale SagaTemplate")
	if err := o.kubectlShow(ctx, "wait", "--for=condition=Succeeded", "saga/"+DirectSale, timeout); err != nil {
		_ = o.kubectlShow(ctx, "get", "saga", DirectSale, "-o", "wide")
		return err
	}
	_, _ = fmt.Fprintln(o.Out)
	if err := o.kubectlShow(ctx, "get", "sagatemplates,sagas"); err != nil {
		return err
	}
	return o.kubectlShow(ctx, "get", "saga", DirectSale, "-o",
		`jsonpath={"outputs: "}{.status.outputs}{"\nhistory: "}{.status.history[*].event}{"\n"}`)
}

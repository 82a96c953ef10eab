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

// Package demo (a development tool, not the product) is `make demo` and `make demo-down`:
// on a local control plane started by `make cluster-up`, it runs the services and the
// manager as detached processes (devstack), seeds the data the samples need, applies
// config/samples/ with kubectl, waits for both Orders and shows what happened.
package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/kubesaga/kubesaga/internal/dev/devstack"
	"github.com/kubesaga/kubesaga/internal/dev/localcluster"
	"github.com/kubesaga/kubesaga/internal/participants"
)

// The data config/samples/ relies on.
const (
	StoreID     = 101
	ProductA    = 501 // stock 15; cart A takes 3 at 12.50: the happy Order
	ProductB    = 502 // stock 1; cart B wants 2 at 4.00: the Order that rolls back
	StockA      = 15
	StockB      = 1
	CartA       = "c0ffee00-0000-4000-8000-00000000000a"
	CartB       = "c0ffee00-0000-4000-8000-00000000000b"
	HappyOrder  = "order-happy"
	RollbackOrd = "order-rollback"
)

// Options of the demo. Dir is the local state directory (.local): the control plane's
// kubeconfig is Dir/kubeconfig, the stack lives in Dir/demo, the env file is Dir/demo.env.
type Options struct {
	Dir     string
	BinDir  string
	Kubectl string
	Samples string
	Ports   devstack.Ports
	// ManagerArgs are extra manager flags.
	ManagerArgs []string
	Timeout     time.Duration
	Out         io.Writer
}

func (o *Options) stackDir() string   { return filepath.Join(o.Dir, "demo") }
func (o *Options) kubeconfig() string { return filepath.Join(o.Dir, localcluster.KubeconfigFile) }
func (o *Options) envFile() string    { return filepath.Join(o.Dir, "demo.env") }
func (o *Options) uidFile() string    { return filepath.Join(o.stackDir(), "cluster.uid") }

func (o *Options) say(format string, args ...any) {
	_, _ = fmt.Fprintf(o.Out, "==> "+format+"\n", args...)
}

// Up starts (or reuses) the stack, seeds, applies the samples, waits and reports.
func Up(ctx context.Context, o Options) error {
	var err error
	if o.Dir, err = filepath.Abs(o.Dir); err != nil {
		return err
	}
	if _, err := os.Stat(o.kubeconfig()); err != nil {
		return fmt.Errorf("no control plane: %s is missing (run `make cluster-up`)", o.kubeconfig())
	}
	uid, err := o.kubectlOut(ctx, "get", "namespace", "default", "-o", "jsonpath={.metadata.uid}")
	if err != nil {
		return fmt.Errorf("the control plane does not answer: %w", err)
	}

	stack, err := o.stack(ctx, strings.TrimSpace(uid))
	if err != nil {
		return err
	}
	if err := stack.WriteEnv(o.envFile(), nil); err != nil {
		return err
	}

	o.say("seeding store %d: product %d stock %d, product %d stock %d; carts %s and %s",
		StoreID, ProductA, StockA, ProductB, StockB, CartA, CartB)
	if err := seed(ctx, stack); err != nil {
		return err
	}

	if err := o.sagasBefore(ctx, stack); err != nil { // Sagas: sagas.go
		return err
	}

	o.say("applying the sample Orders")
	if err := o.kubectlShow(ctx, "apply", "-f", o.Samples); err != nil {
		return err
	}
	timeout := fmt.Sprintf("--timeout=%s", o.Timeout)
	o.say("waiting for both Orders")
	if err := o.checkNotLost(ctx); err != nil {
		return err
	}
	if err := o.kubectlShow(ctx, "wait", "--for=condition=Succeeded", "order/"+HappyOrder, timeout); err != nil {
		o.hint(ctx, HappyOrder)
		return err
	}
	if err := o.kubectlShow(ctx, "wait", "--for=condition=Compensated", "order/"+RollbackOrd, timeout); err != nil {
		o.hint(ctx, RollbackOrd)
		return err
	}
	if err := o.sagasAfter(ctx, timeout); err != nil { // Sagas: sagas.go
		return err
	}
	_, _ = fmt.Fprintln(o.Out)
	if err := o.kubectlShow(ctx, "get", "orders", "-o", "wide"); err != nil {
		return err
	}
	_, _ = fmt.Fprintln(o.Out)
	if err := o.kubectlShow(ctx, "get", "orders", "-o", "custom-columns="+
		`NAME:.metadata.name,SUCCEEDED:.status.conditions[?(@.type=="Succeeded")].status,`+
		`COMPENSATED:.status.conditions[?(@.type=="Compensated")].status,HISTORY:.status.history[*].event`); err != nil {
		return err
	}
	if err := report(ctx, o.Out, stack); err != nil {
		return err
	}
	if err := o.printEvents(ctx, stack); err != nil {
		return err
	}
	if err := walkthrough(ctx, &o, stack); err != nil { // gateway.go
		return err
	}
	o.next()
	return nil
}

// stack reuses the running demo stack when it is whole and belongs to this control
// plane; otherwise it stops what is left and starts a fresh one (with fresh SQLite
// files when the control plane is new: its Orders and the services' data go together).
func (o *Options) stack(ctx context.Context, clusterUID string) (*devstack.Stack, error) {
	recorded, _ := os.ReadFile(o.uidFile())
	sameCluster := strings.TrimSpace(string(recorded)) == clusterUID
	if s, err := devstack.Attach(o.stackDir(), devstack.Options{Log: o.Out}); err == nil {
		if sameCluster && s.NATSURL() != "" && s.GatewayURL() != "" && s.Ready(ctx) == nil {
			o.say("the demo runs already (manager pid %d): reusing it", s.PID(devstack.Manager))
			for _, name := range s.Stale() {
				o.say("bin/%s changed since it started: restarting it", name)
				if err := s.Restart(ctx, name); err != nil {
					return nil, err
				}
			}
			return s, nil
		}
		o.say("restarting the demo processes")
		if err := s.Stop(); err != nil {
			return nil, err
		}
	}
	if !sameCluster {
		if err := removeData(o.stackDir()); err != nil {
			return nil, err
		}
	}
	o.say("starting the event bus (bin/natsd, JetStream in %s/nats), carts, stocks and sales on 127.0.0.1 "+
		"(SQLite files and logs in %[1]s), then the manager", o.stackDir())
	s, err := devstack.Start(ctx, devstack.Options{
		Dir: o.stackDir(), BinDir: o.BinDir, Ports: o.Ports, Kubeconfig: o.kubeconfig(),
		ManagerArgs: o.ManagerArgs, Detach: true, Log: o.Out, Bus: true,
		Gateway: devstack.GatewayOptions{Enabled: true}, // token-free, like the services in the demo
	})
	if err != nil {
		return nil, err
	}
	return s, os.WriteFile(o.uidFile(), []byte(clusterUID+"\n"), 0o640)
}

// removeData deletes the services' SQLite files (and their WAL companions).
func removeData(dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.db*"))
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

type clients struct {
	carts  *participants.Carts
	stocks *participants.Stocks
	sales  *participants.Sales
}

func newClients(s *devstack.Stack) (clients, error) {
	po := participants.Options{Timeout: 5 * time.Second}
	c, err := participants.NewCarts(s.CartsURL(), nil, po)
	if err != nil {
		return clients{}, err
	}
	st, err := participants.NewStocks(s.StocksURL(), nil, po)
	if err != nil {
		return clients{}, err
	}
	sa, err := participants.NewSales(s.SalesURL(), nil, po)
	return clients{c, st, sa}, err
}

// seed is idempotent: a stock level is set only when the product has none (a second run
// keeps what the first run's Orders did), and the carts are created under fixed ids (a
// repeat answers the existing cart).
func seed(ctx context.Context, s *devstack.Stack) error {
	c, err := newClients(s)
	if err != nil {
		return err
	}
	return seedStore(ctx, c, []stockSeed{{ProductA, StockA}, {ProductB, StockB}},
		[]cartSeed{{CartA, ProductA, 3, "12.50"}, {CartB, ProductB, 2, "4.00"}})
}

type stockSeed struct{ product, stock int64 }

type cartSeed struct {
	id      string
	product int64
	qty     int64
	price   string
}

// seedStore seeds store StoreID as seed describes.
func seedStore(ctx context.Context, c clients, stocks []stockSeed, carts []cartSeed) error {
	for _, p := range stocks {
		_, err := c.stocks.GetStock(ctx, StoreID, p.product)
		var r *participants.Refusal
		switch {
		case err == nil: // seeded by an earlier run
		case errors.As(err, &r) && r.Status == http.StatusNotFound:
			if _, err := c.stocks.SetStock(ctx, StoreID, p.product, p.stock); err != nil {
				return fmt.Errorf("seeding the stock of product %d: %w", p.product, err)
			}
		default:
			return fmt.Errorf("reading the stock of product %d: %w", p.product, err)
		}
	}
	for _, cart := range carts {
		if _, err := c.carts.Create(ctx, cart.id, StoreID,
			[]participants.Line{{ProductID: cart.product, Quantity: cart.qty, UnitPrice: cart.price}}); err != nil {
			return fmt.Errorf("seeding cart %s: %w", cart.id, err)
		}
	}
	return nil
}

// report prints the stock levels, the carts and the sales of the store.
func report(ctx context.Context, w io.Writer, s *devstack.Stack) error {
	c, err := newClients(s)
	if err != nil {
		return err
	}
	_, _ = fmt.Fprintf(w, "\nStock (store %d, %s):\n", StoreID, s.StocksURL())
	for _, p := range []struct{ product, initial int64 }{{ProductA, StockA}, {ProductB, StockB}, {ProductC, StockC}} {
		st, err := c.stocks.GetStock(ctx, StoreID, p.product)
		if err != nil {
			return err
		}
		_, _ = fmt.Fprintf(w, "  product %d: %d (seeded %d)\n", p.product, st.Quantity, p.initial)
	}
	_, _ = fmt.Fprintf(w, "Carts (%s):\n", s.CartsURL())
	for _, id := range []string{CartA, CartB} {
		cart, err := c.carts.Get(ctx, id)
		if err != nil {
			return err
		}
		_, _ = fmt.Fprintf(w, "  %s: %s\n", id, cart.Status)
	}
	sales, err := c.sales.List(ctx, StoreID, "")
	if err != nil {
		return err
	}
	_, _ = fmt.Fprintf(w, "Sales of store %d (%s): %d\n", StoreID, s.SalesURL(), len(sales))
	for _, sale := range sales {
		var lines []string
		for _, l := range sale.Lines {
			lines = append(lines, fmt.Sprintf("%d x product %d at %s", l.Quantity, l.ProductID, l.UnitPrice))
		}
		_, _ = fmt.Fprintf(w, "  sale %s %s: %s, total %s\n", sale.ID, sale.Status, strings.Join(lines, ", "), sale.Total)
	}
	return nil
}

func (o *Options) next() {
	rel := func(p string) string {
		if wd, err := os.Getwd(); err == nil {
			if r, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(r, "..") {
				return r
			}
		}
		return p
	}
	_, _ = fmt.Fprintf(o.Out, `
The demo runs. Carry on in this shell:

  source %[1]s    # KUBECONFIG, CARTS_URL, STOCKS_URL, SALES_URL, METRICS_URL, NATS_URL, GATEWAY_URL
  export PATH=%[2]s:$PATH    # this kubectl, or use your own
  kubectl get orders -w
  kubectl get sagas; kubectl describe saga direct-sale-1    # sagas written as data: docs/sagas.md
  kubectl describe order %[3]s
  kubectl get order %[4]s -o jsonpath='{.status.lastError}{"\n"}'
  curl -s $STOCKS_URL/api/stocks/%[5]d/%[6]d
  curl -s "$SALES_URL/api/sales?storeId=%[5]d"
  curl -s "$CARTS_URL/api/events?correlationId=$(kubectl get order %[3]s -o jsonpath='{.metadata.uid}')"
  bin/kubesaga-events --no-follow --correlation-id $(kubectl get order %[4]s -o jsonpath='{.metadata.uid}')
  bin/kubesaga-events --json    # follows the bus: one CloudEvent per line; ^C stops
  curl -s $GATEWAY_URL/api/orders/hp-1    # the HTTP order API (docs/gateway.md)

Logs: %[7]s/{manager,carts,stocks,sales,natsd,gateway}.log
Stop everything (manager, services, control plane): make demo-down
`, rel(o.envFile()), filepath.Dir(o.Kubectl), HappyOrder, RollbackOrd, StoreID, ProductA, rel(o.stackDir()))
}

// checkNotLost fails fast when an Order already ended the other way than the demo
// expects, which happens when the Orders were deleted and applied again over the same
// services' data (cart a is then checked out already): waiting could not help.
func (o *Options) checkNotLost(ctx context.Context) error {
	for _, c := range []struct{ name, bad string }{{HappyOrder, "Failed Stalled"}, {RollbackOrd, "Succeeded Stalled"}} {
		out, err := o.kubectlOut(ctx, "get", "order", c.name, "-o", "jsonpath={.status.phase}{\"|\"}{.status.lastError}")
		if err != nil {
			return err
		}
		phase, lastError, _ := strings.Cut(out, "|")
		if phase != "" && strings.Contains(c.bad, phase) {
			return fmt.Errorf("order %s is %s (%s): the demo's data no longer matches its Orders "+
				"(were they deleted and applied again?); start over with `make demo-down && make demo`", c.name, phase, lastError)
		}
	}
	return nil
}

// hint prints what helps when a wait timed out.
func (o *Options) hint(ctx context.Context, name string) {
	_ = o.kubectlShow(ctx, "get", "order", name, "-o", "wide")
	_, _ = fmt.Fprintf(o.Out, "see %s/manager.log and `kubectl describe order %s`\n", o.stackDir(), name)
}

func (o *Options) kubectlCmd(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, o.Kubectl, args...) //nolint:gosec // kubectl with our arguments
	cmd.Env = append(os.Environ(), "KUBECONFIG="+o.kubeconfig())
	return cmd
}

// kubectlShow runs kubectl, showing the command and its output.
func (o *Options) kubectlShow(ctx context.Context, args ...string) error {
	_, _ = fmt.Fprintf(o.Out, "$ kubectl %s\n", strings.Join(args, " "))
	cmd := o.kubectlCmd(ctx, args...)
	cmd.Stdout, cmd.Stderr = o.Out, o.Out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kubectl %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

func (o *Options) kubectlOut(ctx context.Context, args ...string) (string, error) {
	var stderr bytes.Buffer
	cmd := o.kubectlCmd(ctx, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// Down stops the demo's processes and the local control plane, then checks that none
// of them is left.
func Down(o Options) error {
	var err error
	if o.Dir, err = filepath.Abs(o.Dir); err != nil {
		return err
	}
	var errs []error
	if s, err := devstack.Attach(o.stackDir(), devstack.Options{Log: o.Out}); err == nil {
		o.say("stopping the manager and the services")
		errs = append(errs, s.Stop())
	} else if !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	} else {
		o.say("no demo processes recorded in %s", o.stackDir())
	}
	o.say("stopping the local control plane")
	errs = append(errs, localcluster.Down(localcluster.Options{Dir: o.Dir, Log: o.Out}))
	_ = os.Remove(o.envFile())
	_ = removeData(o.stackDir())
	_ = os.Remove(o.uidFile())
	if left := devstack.Leftovers(o.stackDir()); len(left) > 0 {
		errs = append(errs, fmt.Errorf("processes left behind:\n  %s", strings.Join(left, "\n  ")))
	}
	if s, running := localcluster.Running(o.Dir); running {
		errs = append(errs, fmt.Errorf("the control plane (pid %d) still runs", s.PID))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	o.say("stopped: no manager, service, etcd or kube-apiserver of the demo is left")
	return nil
}

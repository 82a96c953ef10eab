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

// Package kubectlsaga is the logic of the kubectl plugin kubectl-saga (cmd/kubectl-saga):
// status, retry, wait and list for Orders, through the user's kubeconfig, as kubectl would.
package kubectlsaga

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
)

// Exit codes. `wait` tells the outcome by them; the others use OK and Error only.
const (
	ExitOK      = 0 // done; for wait: the saga succeeded
	ExitError   = 1 // bad usage, API error, or wait timed out
	ExitFailed  = 2 // wait: the saga failed (its done steps were compensated)
	ExitStalled = 3 // wait: the saga is stalled, a person must act
)

// Streams are where a command writes; tests give buffers.
type Streams struct {
	Out, ErrOut io.Writer
}

// usageError is a mistake in the command line: printed with the usage.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `kubectl saga: inspect and drive kubesaga Orders (orders.saga.kubesaga.io).

Usage:
  kubectl saga status ORDER [flags]   steps, history, Events and the participants' business events
  kubectl saga retry ORDER [flags]    resume a stalled step (sets the retry annotation to a new token)
  kubectl saga wait ORDER [flags]     wait until the saga finishes; the exit code tells how:
                                      0 succeeded, 2 failed (compensated), 3 stalled, 1 error or timeout
  kubectl saga list [--stalled] [-A]  Orders with their phase; --stalled: only those a person must act on

Flags:
`

// globals are the kubectl-like connection flags every command takes.
type globals struct {
	kubeconfig, context, namespace string
	allNamespaces                  bool
	requestTimeout                 time.Duration
}

// Main runs the plugin with args (without the program name) and returns the exit code.
func Main(ctx context.Context, args []string, s Streams) int {
	code, err := run(ctx, args, s)
	if err != nil {
		fmt.Fprintln(s.ErrOut, "error:", err)
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprintln(s.ErrOut, "Run 'kubectl saga --help' for usage.")
		}
	}
	return code
}

func run(ctx context.Context, args []string, s Streams) (int, error) {
	var g globals
	fs := pflag.NewFlagSet("kubectl-saga", pflag.ContinueOnError)
	fs.SetOutput(s.ErrOut)
	fs.StringVar(&g.kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
	fs.StringVar(&g.context, "context", "", "kubeconfig context to use")
	fs.StringVarP(&g.namespace, "namespace", "n", "", "namespace of the Order (default: the context's namespace)")
	fs.BoolVarP(&g.allNamespaces, "all-namespaces", "A", false, "list: across all namespaces")
	fs.DurationVar(&g.requestTimeout, "request-timeout", 30*time.Second, "timeout of each API request")
	stalled := fs.Bool("stalled", false, "list: only Stalled Orders")
	timeout := fs.Duration("timeout", 30*time.Second, "wait: give up after this long (exit code 1); 0 waits forever")
	var po participantOptions
	po.bind(fs)
	fs.Usage = func() { fmt.Fprint(s.ErrOut, usage, fs.FlagUsages()) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return ExitOK, nil
		}
		return ExitError, usageError{err.Error()}
	}
	pos := fs.Args()
	if len(pos) == 0 {
		fs.Usage()
		return ExitError, usageError{"a command is required: status, retry, wait or list"}
	}
	cmd, names := pos[0], pos[1:]
	one := func() (string, error) {
		if len(names) != 1 {
			return "", usageError{fmt.Sprintf("%s takes exactly one ORDER name, got %d arguments", cmd, len(names))}
		}
		return names[0], nil
	}
	switch cmd {
	case "status", "retry", "wait":
		if _, err := one(); err != nil {
			return ExitError, err
		}
	case "list":
		if len(names) != 0 {
			return ExitError, usageError{"list takes no arguments, got " + strings.Join(names, " ")}
		}
	default:
		return ExitError, usageError{fmt.Sprintf("unknown command %q: use status, retry, wait or list", cmd)}
	}
	c, ns, err := g.client()
	if err != nil {
		return ExitError, err
	}
	switch cmd {
	case "status":
		return exitCode(Status(ctx, c, client.ObjectKey{Namespace: ns, Name: names[0]}, po.participants(), s.Out))
	case "retry":
		return exitCode(Retry(ctx, c, client.ObjectKey{Namespace: ns, Name: names[0]}, s.Out))
	case "wait":
		wctx := ctx
		if *timeout > 0 {
			var cancel context.CancelFunc
			wctx, cancel = context.WithTimeout(ctx, *timeout)
			defer cancel()
		}
		out, err := Wait(wctx, c, client.ObjectKey{Namespace: ns, Name: names[0]})
		if err != nil {
			return ExitError, err
		}
		fmt.Fprintf(s.Out, "order/%s %s\n", names[0], strings.ToLower(string(out)))
		return out.ExitCode(), nil
	default: // list
		if g.allNamespaces {
			ns = ""
		}
		return exitCode(List(ctx, c, ns, *stalled, s.Out))
	}
}

func exitCode(err error) (int, error) {
	if err != nil {
		return ExitError, err
	}
	return ExitOK, nil
}

// client builds a client from the kubeconfig the way kubectl does, and returns the
// namespace to use (flag, else the context's, else default).
func (g globals) client() (client.WithWatch, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = g.kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: g.context}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("load kubeconfig: %w", err)
	}
	ns := g.namespace
	if ns == "" {
		if ns, _, err = cc.Namespace(); err != nil {
			return nil, "", fmt.Errorf("kubeconfig namespace: %w", err)
		}
	}
	cfg = rest.CopyConfig(cfg)
	cfg.Timeout = g.requestTimeout
	cfg.UserAgent = "kubectl-saga"
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: Scheme()})
	if err != nil {
		return nil, "", fmt.Errorf("create client: %w", err)
	}
	return c, ns, nil
}

// Scheme knows the built-in types and the Order.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(sagav1.AddToScheme(s))
	return s
}

// Outcome is where a saga stands for `wait`.
type Outcome string

// Outcomes; InFlight is not final.
const (
	InFlight  Outcome = "InFlight"
	Succeeded Outcome = "Succeeded"
	Failed    Outcome = "Failed"
	Stalled   Outcome = "Stalled"
)

// ExitCode is the exit code `wait` reports for an outcome.
func (o Outcome) ExitCode() int {
	switch o {
	case Succeeded:
		return ExitOK
	case Failed:
		return ExitFailed
	case Stalled:
		return ExitStalled
	default:
		return ExitError
	}
}

// OutcomeOf reads an Order's conditions (the truth, not the display phase). A saga is
// final when Progressing is False: Succeeded, compensated, or stalled. The conditions
// must be of the Order's current generation, or they describe an older spec.
func OutcomeOf(o *sagav1.Order) Outcome {
	conds := o.Status.Conditions
	current := func(t string) bool {
		c := meta.FindStatusCondition(conds, t)
		return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration >= o.Generation
	}
	switch {
	case current(sagav1.ConditionStalled):
		return Stalled
	case current(sagav1.ConditionSucceeded):
		return Succeeded
	case current(sagav1.ConditionCompensated):
		return Failed
	default:
		return InFlight
	}
}

// participantOptions say where status finds the participants' business events.
type participantOptions struct {
	carts, stocks, sales, tokenFile string
}

func (p *participantOptions) bind(fs *pflag.FlagSet) {
	fs.StringVar(&p.carts, "carts-url", os.Getenv("CARTS_URL"), "status: base URL of the carts service, for its events (env CARTS_URL)")
	fs.StringVar(&p.stocks, "stocks-url", os.Getenv("STOCKS_URL"), "status: base URL of the stocks service (env STOCKS_URL)")
	fs.StringVar(&p.sales, "sales-url", os.Getenv("SALES_URL"), "status: base URL of the sales service (env SALES_URL)")
	fs.StringVar(&p.tokenFile, "token-file", os.Getenv("TOKEN_FILE"), "status: file holding the participants' bearer token (env TOKEN_FILE)")
}

func (p participantOptions) participants() Participants {
	return Participants{
		URLs:      []NamedURL{{"carts", p.carts}, {"stocks", p.stocks}, {"sales", p.sales}},
		TokenFile: p.tokenFile,
	}
}

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

// Command demo runs `make demo` and `make demo-down` (internal/dev/devstack/demo):
//
//	demo up   -dir=.local -bin=bin -kubectl=PATH -samples=config/samples
//	demo down -dir=.local
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/kubesaga/kubesaga/internal/dev/devstack/demo"
)

func main() {
	if len(os.Args) < 2 || (os.Args[1] != "up" && os.Args[1] != "down") {
		fmt.Fprintln(os.Stderr, "usage: demo up|down [flags]  (demo up -h lists the flags)")
		os.Exit(2)
	}
	o := demo.Options{Out: os.Stdout}
	var managerArgs string
	fs := flag.NewFlagSet("demo "+os.Args[1], flag.ExitOnError)
	fs.StringVar(&o.Dir, "dir", ".local",
		"local state directory: the kubeconfig of `make cluster-up`; the demo's files go to DIR/demo and DIR/demo.env")
	fs.StringVar(&o.BinDir, "bin", "bin", "directory of the manager, carts, stocks and sales binaries")
	fs.StringVar(&o.Kubectl, "kubectl", "kubectl", "kubectl binary")
	fs.StringVar(&o.Samples, "samples", "config/samples", "directory of the sample Orders")
	fs.IntVar(&o.Ports.Carts, "carts-port", 18081, "port of the carts service on 127.0.0.1")
	fs.IntVar(&o.Ports.Stocks, "stocks-port", 18082, "port of the stocks service on 127.0.0.1")
	fs.IntVar(&o.Ports.Sales, "sales-port", 18083, "port of the sales service on 127.0.0.1")
	fs.IntVar(&o.Ports.ManagerMetrics, "metrics-port", 18090, "port of the manager's metrics on 127.0.0.1")
	fs.IntVar(&o.Ports.ManagerProbe, "probe-port", 18091, "port of the manager's health probes on 127.0.0.1")
	fs.IntVar(&o.Ports.NATS, "nats-port", 18222, "port of the event bus (NATS) on 127.0.0.1")
	fs.IntVar(&o.Ports.NATSMonitor, "nats-monitor-port", 18223, "port of the event bus's monitoring on 127.0.0.1")
	fs.IntVar(&o.Ports.Gateway, "gateway-port", 18088, "port of the HTTP order API (gateway) on 127.0.0.1")
	fs.StringVar(&managerArgs, "manager-args", "--backoff-base=500ms --backoff-max=30s --max-attempts=10",
		"extra manager flags, space separated")
	fs.DurationVar(&o.Timeout, "timeout", 90*time.Second, "how long to wait for each Order")
	_ = fs.Parse(os.Args[2:])
	o.ManagerArgs = strings.Fields(managerArgs)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if os.Args[1] == "up" {
		err = demo.Up(ctx, o)
	} else {
		err = demo.Down(o)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

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

// Package devstack (a development tool, not the product) runs kubesaga as real local
// processes: the three participant services (carts, stocks, sales) on 127.0.0.1 with their
// SQLite files under one directory, and the manager against a kubeconfig. `make demo`, the
// end-to-end tests and the chaos tests share it.
//
// Start launches the processes and returns once each answers its /readyz. Every
// process writes its pid to Dir/<name>.pid and its output to Dir/<name>.log, and the
// stack records itself in Dir/stack.json, so that another process can Attach to a
// detached stack (make demo-down) and Kill, Restart or Stop its processes.
package devstack

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"time"

	"github.com/kubesaga/kubesaga/internal/dev/faultproxy"
)

// Process names. Services are the participants; Manager is the operator.
const (
	Carts   = "carts"
	Stocks  = "stocks"
	Sales   = "sales"
	Manager = "manager"
)

// Services lists the participant services in start order.
var Services = []string{Carts, Stocks, Sales}

// StateFile is the stack's record inside Options.Dir.
const StateFile = "stack.json"

// Ports are the TCP ports on Options.Host. A zero port is chosen free at Start.
type Ports struct {
	Carts, Stocks, Sales int
	// ManagerMetrics and ManagerProbe are the manager's metrics and health ports.
	ManagerMetrics, ManagerProbe int
	// NATS and NATSMonitor are the event bus's client and monitoring ports (Options.Bus).
	NATS, NATSMonitor int
	// Gateway is the HTTP order API's port (with Options.Gateway.Enabled).
	Gateway int
}

// Options configure a stack.
type Options struct {
	// Dir holds the SQLite files, logs, pid files and stack.json. Created if missing.
	Dir string
	// BinDir holds the carts, stocks, sales and manager binaries (make build: bin/).
	BinDir string
	// Host is the address every process listens on; default 127.0.0.1.
	Host string
	// Ports of the services and of the manager; zero ones are chosen free.
	Ports Ports
	// Kubeconfig is the manager's KUBECONFIG. Empty: the manager is not started.
	Kubeconfig string
	// ManagerArgs are extra manager flags, e.g. --backoff-base=100ms.
	ManagerArgs []string
	// ManagerReplicas is the number of manager processes; default 1. The first is named
	// "manager" and uses Ports.ManagerMetrics and Ports.ManagerProbe; the others are
	// "manager-2", "manager-3", ... on free ports (ManagerNames lists them). More than
	// one only makes sense with --leader-elect in ManagerArgs.
	ManagerReplicas int
	// TokenFile, when set, is passed as --token-file to the services (which then
	// require the bearer token it holds) and to the manager (which sends it).
	TokenFile string
	// Proxied lists services that the manager reaches through a faultproxy.Proxy run in
	// the calling process (Stack.Proxy), to slow or cut its calls. Not with Detach.
	Proxied []string
	// Detach starts the processes in sessions of their own, so that they outlive the
	// caller (make demo). Otherwise they are killed when the caller dies (tests).
	Detach bool
	// ReadyTimeout bounds the wait for each process's /readyz; default 60s.
	ReadyTimeout time.Duration
	// StopTimeout bounds the wait after SIGTERM before SIGKILL; default 20s.
	StopTimeout time.Duration
	// Log receives progress lines; nil discards them.
	Log io.Writer
	// Bus starts an event bus (bin/natsd, NATS with JetStream) first and points every
	// service and the manager at it (--nats-url); see bus.go.
	Bus bool
	// Gateway starts the HTTP order API after the manager (gateway.go).
	Gateway GatewayOptions
}

// Process is one process of the stack, as recorded in stack.json.
type Process struct {
	Name     string   `json:"name"`
	Args     []string `json:"args"` // Args[0] is the binary's path
	Env      []string `json:"env,omitempty"`
	Log      string   `json:"log"`
	ReadyURL string   `json:"readyURL"`
	URL      string   `json:"url,omitempty"` // base URL of a service
	PID      int      `json:"pid"`
	// Binary is the SHA-256 of Args[0] when the process started (Go builds are
	// reproducible: the same sources give the same sum).
	Binary string `json:"binarySHA256"`

	exited chan struct{} // closed when a child of ours is reaped
}

// Stack is a running set of processes.
type Stack struct {
	opts     Options
	mu       sync.Mutex
	procs    map[string]*Process
	order    []string
	managers []string
	proxies  map[string]*faultproxy.Proxy
}

type state struct {
	Dir        string     `json:"dir"`
	Detach     bool       `json:"detach"`
	Kubeconfig string     `json:"kubeconfig,omitempty"`
	Processes  []*Process `json:"processes"`
}

func (o *Options) defaults() error {
	if o.Dir == "" {
		return errors.New("devstack: Options.Dir is required")
	}
	if o.BinDir == "" {
		return errors.New("devstack: Options.BinDir is required")
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return err
	}
	o.Dir = dir
	if o.BinDir, err = filepath.Abs(o.BinDir); err != nil {
		return err
	}
	if o.Kubeconfig != "" {
		if o.Kubeconfig, err = filepath.Abs(o.Kubeconfig); err != nil {
			return err
		}
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 60 * time.Second
	}
	if o.StopTimeout == 0 {
		o.StopTimeout = 20 * time.Second
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.ManagerReplicas <= 0 {
		o.ManagerReplicas = 1
	}
	if o.TokenFile != "" {
		if o.TokenFile, err = filepath.Abs(o.TokenFile); err != nil {
			return err
		}
	}
	if err := o.busDefaults(); err != nil {
		return err
	}
	if len(o.Proxied) > 0 && o.Detach {
		return errors.New("devstack: Options.Proxied runs proxies in the calling process: not with Detach")
	}
	for _, p := range []*int{&o.Ports.Carts, &o.Ports.Stocks, &o.Ports.Sales, &o.Ports.ManagerMetrics, &o.Ports.ManagerProbe} {
		if *p == 0 {
			if *p, err = freePort(o.Host); err != nil {
				return err
			}
		}
	}
	return nil
}

func (o *Options) logf(format string, args ...any) {
	_, _ = fmt.Fprintf(o.Log, "devstack: "+format+"\n", args...)
}

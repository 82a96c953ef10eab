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

package devstack

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kubesaga/kubesaga/internal/dev/faultproxy"
)

// Dir is the stack's directory.
func (s *Stack) Dir() string { return s.opts.Dir }

// URL returns the base URL of a service (carts, stocks, sales), or of the manager's
// metrics endpoint, e.g. http://127.0.0.1:18081.
func (s *Stack) URL(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.procs[name]; ok {
		return p.URL
	}
	return ""
}

// CartsURL, StocksURL and SalesURL are the services' base URLs.
func (s *Stack) CartsURL() string  { return s.URL(Carts) }
func (s *Stack) StocksURL() string { return s.URL(Stocks) }
func (s *Stack) SalesURL() string  { return s.URL(Sales) }

// Names lists the stack's processes in start order.
func (s *Stack) Names() []string { return append([]string(nil), s.order...) }

// PID returns the pid of a running process, or 0.
func (s *Stack) PID(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.procs[name]
	if !ok || !s.alive(p) {
		return 0
	}
	return p.PID
}

// Running reports whether the named process runs.
func (s *Stack) Running(name string) bool { return s.PID(name) != 0 }

// LogFile is the path of the named process's log.
func (s *Stack) LogFile(name string) string { return filepath.Join(s.opts.Dir, name+".log") }

// LogTail returns the last n lines of the named process's log (or why it cannot).
func (s *Stack) LogTail(name string, n int) string { return tail(s.LogFile(name), n) }

// Ready reports whether every process runs and answers its /readyz.
func (s *Stack) Ready(ctx context.Context) error {
	var errs []error
	for _, name := range s.order {
		s.mu.Lock()
		p := s.procs[name]
		up := s.alive(p)
		s.mu.Unlock()
		if !up {
			errs = append(errs, fmt.Errorf("%s is not running", name))
			continue
		}
		if err := getOK(ctx, p.ReadyURL); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// Stale lists the running processes whose binary changed since they started.
func (s *Stack) Stale() []string {
	var out []string
	for _, name := range s.order {
		s.mu.Lock()
		p := s.procs[name]
		s.mu.Unlock()
		if sum, err := fileSum(p.Args[0]); err == nil && s.alive(p) && sum != p.Binary {
			out = append(out, name)
		}
	}
	return out
}

// ManagerName is the name of the i-th manager replica (from 0): manager, manager-2, ...
func ManagerName(i int) string {
	if i == 0 {
		return Manager
	}
	return fmt.Sprintf("%s-%d", Manager, i+1)
}

// ManagerNames lists the manager replicas of the stack.
func (s *Stack) ManagerNames() []string { return append([]string(nil), s.managers...) }

// Proxy returns the fault proxy in front of a service listed in Options.Proxied, or nil.
func (s *Stack) Proxy(name string) *faultproxy.Proxy {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proxies[name]
}

// WriteEnv writes a shell file (KEY='value' lines) with CARTS_URL, STOCKS_URL,
// SALES_URL, the manager's METRICS_URL, GATEWAY_URL and KUBECONFIG when the stack has them, plus
// extra, for scripts that drive the running stack (`source .local/demo.env`).
func (s *Stack) WriteEnv(path string, extra map[string]string) error {
	vars := map[string]string{
		"CARTS_URL": s.CartsURL(), "STOCKS_URL": s.StocksURL(), "SALES_URL": s.SalesURL(),
	}
	if s.opts.Kubeconfig != "" {
		vars["KUBECONFIG"] = s.opts.Kubeconfig
	}
	if u := s.URL(Manager); u != "" {
		vars["METRICS_URL"] = u + "/metrics"
	}
	if u := s.NATSURL(); u != "" {
		vars["NATS_URL"] = u
	}
	if u := s.GatewayURL(); u != "" {
		vars["GATEWAY_URL"] = u
	}
	for k, v := range extra {
		vars[k] = v
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# Written by kubesaga's devstack: `source` it to drive the running stack.\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "export %s=%s\n", k, shellQuote(vars[k]))
	}
	return writeFileAtomic(path, []byte(b.String()), 0o640)
}

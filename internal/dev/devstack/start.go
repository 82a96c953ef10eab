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
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kubesaga/kubesaga/internal/dev/faultproxy"
)

// Start starts the services, then the manager when Kubeconfig is set, and returns once
// every process answers its /readyz. On error, what was started is stopped.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, err
	}
	s := &Stack{opts: opts, procs: map[string]*Process{}, proxies: map[string]*faultproxy.Proxy{}}
	s.addBus()
	s.planServices()
	urls, err := s.startProxies()
	if err == nil && opts.Kubeconfig != "" {
		err = s.planManagers(urls)
	}
	if err == nil {
		err = s.addGateway()
	}
	if err != nil {
		s.closeProxies()
		return nil, err
	}
	for _, name := range s.order {
		if err := s.start(ctx, s.procs[name]); err != nil {
			_ = s.Stop()
			return nil, err
		}
	}
	return s, nil
}

// planServices adds the three services, on their ports and SQLite files.
func (s *Stack) planServices() {
	opts := s.opts
	ports := map[string]int{Carts: opts.Ports.Carts, Stocks: opts.Ports.Stocks, Sales: opts.Ports.Sales}
	for _, name := range Services {
		addr := net.JoinHostPort(opts.Host, strconv.Itoa(ports[name]))
		args := []string{filepath.Join(opts.BinDir, name),
			"--addr=" + addr, "--db=" + filepath.Join(opts.Dir, name+".db"), "--log-format=text"}
		if opts.TokenFile != "" {
			args = append(args, "--token-file="+opts.TokenFile)
		}
		if u := s.NATSURL(); u != "" {
			args = append(args, "--nats-url="+u)
		}
		s.add(&Process{Name: name, Args: args, URL: "http://" + addr, ReadyURL: "http://" + addr + "/readyz"})
	}
}

// startProxies starts a fault proxy in front of each service of Options.Proxied and
// returns the URL by which the manager reaches each service.
func (s *Stack) startProxies() (map[string]string, error) {
	urls := map[string]string{}
	for _, name := range Services {
		urls[name] = s.procs[name].URL
	}
	for _, name := range s.opts.Proxied {
		p, ok := s.procs[name]
		if !ok {
			return nil, fmt.Errorf("devstack: Options.Proxied: no service %q", name)
		}
		px, err := faultproxy.Start(net.JoinHostPort(s.opts.Host, "0"), strings.TrimPrefix(p.URL, "http://"))
		if err != nil {
			return nil, fmt.Errorf("devstack: proxy for %s: %w", name, err)
		}
		s.proxies[name] = px
		urls[name] = px.URL()
		s.opts.logf("%s is reached by the manager through a fault proxy at %s", name, px.URL())
	}
	return urls, nil
}

// planManagers adds the manager replicas: the first on Options.Ports, the others on free
// ports.
func (s *Stack) planManagers(urls map[string]string) error {
	opts := s.opts
	for i := range opts.ManagerReplicas {
		metrics, probe := opts.Ports.ManagerMetrics, opts.Ports.ManagerProbe
		if i > 0 {
			var err error
			if metrics, err = freePort(opts.Host); err == nil {
				probe, err = freePort(opts.Host)
			}
			if err != nil {
				return err
			}
		}
		probeAddr := net.JoinHostPort(opts.Host, strconv.Itoa(probe))
		metricsAddr := net.JoinHostPort(opts.Host, strconv.Itoa(metrics))
		args := make([]string, 0, 8+len(opts.ManagerArgs))
		args = append(args, filepath.Join(opts.BinDir, Manager),
			"--carts-url="+urls[Carts], "--stocks-url="+urls[Stocks], "--sales-url="+urls[Sales],
			"--metrics-bind-address="+metricsAddr,
			"--health-probe-bind-address="+probeAddr,
			"--log-format=text",
		)
		if opts.TokenFile != "" {
			args = append(args, "--token-file="+opts.TokenFile)
		}
		if u := s.NATSURL(); u != "" {
			args = append(args, "--nats-url="+u)
		}
		name := ManagerName(i)
		s.add(&Process{
			Name:     name,
			Args:     append(args, opts.ManagerArgs...),
			Env:      []string{"KUBECONFIG=" + opts.Kubeconfig},
			URL:      "http://" + metricsAddr,
			ReadyURL: "http://" + probeAddr + "/readyz",
		})
		s.managers = append(s.managers, name)
	}
	return nil
}

// Attach returns the stack recorded in dir (by a Start, maybe in another process). Its
// processes may have died; Running tells.
func Attach(dir string, opts Options) (*Stack, error) {
	b, err := os.ReadFile(filepath.Join(dir, StateFile)) //nolint:gosec // our own state file
	if err != nil {
		return nil, err
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, StateFile), err)
	}
	opts.Dir, opts.Detach, opts.Kubeconfig = st.Dir, st.Detach, st.Kubeconfig
	if opts.BinDir == "" {
		opts.BinDir = st.Dir // not used to start anything: Args hold full paths
	}
	opts.Ports = Ports{Carts: -1, Stocks: -1, Sales: -1, ManagerMetrics: -1, ManagerProbe: -1} // recorded in Args
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	s := &Stack{opts: opts, procs: map[string]*Process{}, proxies: map[string]*faultproxy.Proxy{}}
	for _, p := range st.Processes {
		s.add(p)
		if p.Name == Manager || strings.HasPrefix(p.Name, Manager+"-") {
			s.managers = append(s.managers, p.Name)
		}
	}
	return s, nil
}

func (s *Stack) add(p *Process) {
	p.Log = filepath.Join(s.opts.Dir, p.Name+".log")
	s.procs[p.Name] = p
	s.order = append(s.order, p.Name)
}

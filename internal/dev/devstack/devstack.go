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
// end-to-end tests, the chaos test and the benchmark share it.
//
// Start launches the processes and returns once each answers its /readyz. Every
// process writes its pid to Dir/<name>.pid and its output to Dir/<name>.log, and the
// stack records itself in Dir/stack.json, so that another process can Attach to a
// detached stack (make demo-down) and Kill, Restart or Stop its processes.
package devstack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
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
	ports := map[string]int{Carts: opts.Ports.Carts, Stocks: opts.Ports.Stocks, Sales: opts.Ports.Sales}
	for _, name := range Services {
		addr := net.JoinHostPort(opts.Host, strconv.Itoa(ports[name]))
		args := []string{filepath.Join(opts.BinDir, name),
			"--addr=" + addr, "--db=" + filepath.Join(opts.Dir, name+".db"), "--log-format=text"}
		if opts.TokenFile != "" {
			args = append(args, "--token-file="+opts.TokenFile)
		}
		s.add(&Process{Name: name, Args: args, URL: "http://" + addr, ReadyURL: "http://" + addr + "/readyz"})
	}
	managerURL := map[string]string{}
	for _, name := range Services {
		managerURL[name] = s.procs[name].URL
	}
	for _, name := range opts.Proxied {
		p, ok := s.procs[name]
		if !ok {
			s.closeProxies()
			return nil, fmt.Errorf("devstack: Options.Proxied: no service %q", name)
		}
		px, err := faultproxy.Start(net.JoinHostPort(opts.Host, "0"), strings.TrimPrefix(p.URL, "http://"))
		if err != nil {
			s.closeProxies()
			return nil, fmt.Errorf("devstack: proxy for %s: %w", name, err)
		}
		s.proxies[name] = px
		managerURL[name] = px.URL()
		opts.logf("%s is reached by the manager through a fault proxy at %s", name, px.URL())
	}
	if opts.Kubeconfig != "" {
		for i := range opts.ManagerReplicas {
			metrics, probe := opts.Ports.ManagerMetrics, opts.Ports.ManagerProbe
			if i > 0 {
				var err error
				if metrics, err = freePort(opts.Host); err == nil {
					probe, err = freePort(opts.Host)
				}
				if err != nil {
					s.closeProxies()
					return nil, err
				}
			}
			probeAddr := net.JoinHostPort(opts.Host, strconv.Itoa(probe))
			metricsAddr := net.JoinHostPort(opts.Host, strconv.Itoa(metrics))
			args := make([]string, 0, 8+len(opts.ManagerArgs))
			args = append(args, filepath.Join(opts.BinDir, Manager),
				"--carts-url="+managerURL[Carts], "--stocks-url="+managerURL[Stocks], "--sales-url="+managerURL[Sales],
				"--metrics-bind-address="+metricsAddr,
				"--health-probe-bind-address="+probeAddr,
				"--log-format=text",
			)
			if opts.TokenFile != "" {
				args = append(args, "--token-file="+opts.TokenFile)
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
	}
	for _, name := range s.order {
		if err := s.start(ctx, s.procs[name]); err != nil {
			_ = s.Stop()
			return nil, err
		}
	}
	return s, nil
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

// Kill sends sig to the named process (SIGKILL for a crash) and, for SIGKILL and
// SIGTERM, waits until it is gone. The process stays down until Restart.
func (s *Stack) Kill(name string, sig syscall.Signal) error {
	s.mu.Lock()
	p, ok := s.procs[name]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("devstack: no process %q", name)
	}
	if !s.alive(p) {
		return fmt.Errorf("devstack: %s is not running", name)
	}
	s.opts.logf("sending %s to %s (pid %d)", sig, name, p.PID)
	if err := syscall.Kill(p.PID, sig); err != nil {
		return fmt.Errorf("devstack: signal %s: %w", name, err)
	}
	if sig != syscall.SIGKILL && sig != syscall.SIGTERM {
		return nil
	}
	timeout := s.opts.StopTimeout
	if sig == syscall.SIGKILL {
		timeout = 10 * time.Second
	}
	if !s.waitGone(p, timeout) {
		return fmt.Errorf("devstack: %s (pid %d) still runs %s after %s", name, p.PID, timeout, sig)
	}
	return nil
}

// Restart starts the named process again with the same arguments (after stopping it
// with SIGTERM if it still runs) and waits until it is ready.
func (s *Stack) Restart(ctx context.Context, name string) error {
	s.mu.Lock()
	p, ok := s.procs[name]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("devstack: no process %q", name)
	}
	if s.alive(p) {
		if err := s.Kill(name, syscall.SIGTERM); err != nil {
			return err
		}
	}
	return s.start(ctx, p)
}

// Stop stops the manager first, then the services: SIGTERM, then SIGKILL after
// StopTimeout. It removes the pid files and stack.json; SQLite files and logs stay.
func (s *Stack) Stop() error {
	var errs []error
	for i := len(s.order) - 1; i >= 0; i-- {
		p := s.procs[s.order[i]]
		if !s.alive(p) {
			continue
		}
		s.opts.logf("stopping %s (pid %d)", p.Name, p.PID)
		_ = syscall.Kill(p.PID, syscall.SIGTERM)
		if !s.waitGone(p, s.opts.StopTimeout) {
			s.opts.logf("%s (pid %d) did not stop within %s; killing it", p.Name, p.PID, s.opts.StopTimeout)
			_ = syscall.Kill(p.PID, syscall.SIGKILL)
			if !s.waitGone(p, 10*time.Second) {
				errs = append(errs, fmt.Errorf("devstack: %s (pid %d) does not stop", p.Name, p.PID))
			}
		}
	}
	for _, name := range s.order {
		_ = os.Remove(filepath.Join(s.opts.Dir, name+".pid"))
	}
	s.closeProxies()
	if len(errs) == 0 {
		_ = os.Remove(filepath.Join(s.opts.Dir, StateFile))
	}
	return errors.Join(errs...)
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

func (s *Stack) closeProxies() {
	s.mu.Lock()
	proxies := s.proxies
	s.proxies = map[string]*faultproxy.Proxy{}
	s.mu.Unlock()
	for _, px := range proxies {
		_ = px.Close()
	}
}

// IsLeader reports whether the named manager replica holds the leader election lease,
// as its metrics endpoint tells (controller-runtime's leader_election_master_status
// gauge is 1 on the leader only). A replica that does not answer is not the leader.
func (s *Stack) IsLeader(ctx context.Context, name string) bool {
	if !s.Running(name) {
		return false
	}
	u := s.URL(name)
	if u == "" {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u+"/metrics", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return false
	}
	return leaderInMetrics(string(b))
}

// leaderInMetrics reports whether a Prometheus text exposition says its process
// holds a leader election lease.
func leaderInMetrics(text string) bool {
	for line := range strings.SplitSeq(text, "\n") {
		if strings.HasPrefix(line, "leader_election_master_status{") && strings.HasSuffix(strings.TrimSpace(line), "} 1") {
			return true
		}
	}
	return false
}

// Leaders lists the manager replicas that report holding the lease (one, normally;
// none during a takeover).
func (s *Stack) Leaders(ctx context.Context) []string {
	var out []string
	for _, name := range s.ManagerNames() {
		if s.IsLeader(ctx, name) {
			out = append(out, name)
		}
	}
	return out
}

// WriteEnv writes a shell file (KEY='value' lines) with CARTS_URL, STOCKS_URL,
// SALES_URL, the manager's METRICS_URL and KUBECONFIG when the stack has them, plus
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

// start launches p, records its pid, and waits for its /readyz.
func (s *Stack) start(ctx context.Context, p *Process) error {
	logFile, err := os.OpenFile(p.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640) //nolint:gosec // our own log
	if err != nil {
		return err
	}
	defer func() { _ = logFile.Close() }()
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	defer func() { _ = devNull.Close() }()
	_, _ = fmt.Fprintf(logFile, "---- devstack: starting %s at %s\n", strings.Join(p.Args, " "), time.Now().Format(time.RFC3339))

	sum, err := fileSum(p.Args[0])
	if err != nil {
		return fmt.Errorf("devstack: %s: %w (make build)", p.Name, err)
	}
	p.Binary = sum
	cmd := exec.Command(p.Args[0], p.Args[1:]...) //nolint:gosec // our own binaries and flags
	cmd.Env = append(os.Environ(), p.Env...)
	cmd.Dir = s.opts.Dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devNull, logFile, logFile
	if s.opts.Detach {
		// A session of its own: the process outlives make and ignores its terminal's ^C.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	} else {
		// Dies with the caller (a test binary that is killed leaves nothing behind).
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("devstack: starting %s: %w", p.Name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.mu.Lock()
	p.PID, p.exited = cmd.Process.Pid, exited
	s.mu.Unlock()
	if err := writeFileAtomic(filepath.Join(s.opts.Dir, p.Name+".pid"), fmt.Appendf(nil, "%d\n", p.PID), 0o640); err != nil {
		return err
	}
	if err := s.save(); err != nil {
		return err
	}
	s.opts.logf("started %s (pid %d), log %s", p.Name, p.PID, p.Log)

	ctx, cancel := context.WithTimeout(ctx, s.opts.ReadyTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		select {
		case <-exited:
			return fmt.Errorf("devstack: %s exited at start; last lines of %s:\n%s", p.Name, p.Log, tail(p.Log, 15))
		case <-ctx.Done():
			return fmt.Errorf("devstack: %s not ready at %s within %s (%v); see %s", p.Name, p.ReadyURL, s.opts.ReadyTimeout, last, p.Log)
		case <-tick.C:
			if last = getOK(ctx, p.ReadyURL); last == nil {
				s.opts.logf("%s ready at %s", p.Name, p.ReadyURL)
				return nil
			}
		}
	}
}

func (s *Stack) save() error {
	s.mu.Lock()
	st := state{Dir: s.opts.Dir, Detach: s.opts.Detach, Kubeconfig: s.opts.Kubeconfig}
	for _, name := range s.order {
		st.Processes = append(st.Processes, s.procs[name])
	}
	b, err := json.MarshalIndent(st, "", "  ")
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(s.opts.Dir, StateFile), append(b, '\n'), 0o640)
}

// alive reports whether p's recorded pid is a live process running p's binary (a pid
// reused by another program does not count).
func (s *Stack) alive(p *Process) bool {
	if p.PID <= 0 {
		return false
	}
	if p.exited != nil {
		select {
		case <-p.exited:
			return false
		default:
		}
	}
	return processIs(p.PID, p.Args[0])
}

func (s *Stack) waitGone(p *Process, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for s.alive(p) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// processIs reports whether pid runs (not a zombie) the executable at path.
func processIs(pid int, path string) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	st := string(b)
	open, closing := strings.IndexByte(st, '('), strings.LastIndexByte(st, ')')
	if open < 0 || closing < open || closing+2 >= len(st) {
		return false
	}
	if state := st[closing+2]; state == 'Z' || state == 'X' {
		return false
	}
	comm := filepath.Base(path)
	if len(comm) > 15 { // the kernel keeps 15 characters of the name
		comm = comm[:15]
	}
	return st[open+1:closing] == comm
}

// Leftovers lists live processes (pid and command line) whose command line mentions dir:
// after Stop, it should be empty.
func Leftovers(dir string) []string {
	dir, _ = filepath.Abs(dir)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []string
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if !processIs(pid, args[0]) {
			continue
		}
		for _, a := range args[1:] {
			if strings.Contains(a, dir+string(filepath.Separator)) || strings.HasSuffix(a, dir) {
				out = append(out, fmt.Sprintf("%d %s", pid, strings.Join(args, " ")))
				break
			}
		}
	}
	return out
}

func getOK(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

func fileSum(path string) (string, error) {
	f, err := os.Open(path) //nolint:gosec // our own binaries
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path) //nolint:gosec // our own log file
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

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
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kubesaga/kubesaga/internal/dev/faultproxy"
)

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

func (s *Stack) closeProxies() {
	s.mu.Lock()
	proxies := s.proxies
	s.proxies = map[string]*faultproxy.Proxy{}
	s.mu.Unlock()
	for _, px := range proxies {
		_ = px.Close()
	}
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

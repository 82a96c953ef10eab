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

package localcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// serveName is the command name of a background cluster process (see Up).
const serveName = "localcluster"

// Running returns the state of the cluster recorded in dir when its process is alive.
func Running(dir string) (State, bool) {
	pid := readPID(dir)
	if pid == 0 || processName(pid) != serveName {
		return State{}, false
	}
	s, err := ReadState(dir)
	if err != nil || s.PID != pid {
		return State{PID: pid}, true
	}
	return s, true
}

// Up starts the cluster in the background unless it is already running, and returns
// once its API server lists namespaces with the written kubeconfig. serve is the command
// that runs Serve in the foreground (its program must be named "localcluster"); its
// output goes to Dir/cluster.log. Up's own messages go to opts.Log.
func Up(ctx context.Context, opts Options, serve []string) (State, error) {
	opts.defaults()
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return State{}, err
	}
	if s, ok := Running(opts.Dir); ok {
		if s.Ready {
			opts.logf("already running (pid %d, API server %s)", s.PID, s.Host)
			return s, checkAPI(ctx, s.Kubeconfig)
		}
		opts.logf("starting already (pid %d); waiting for it", s.PID)
		return waitReady(ctx, opts, s.PID, nil)
	}
	// A previous cluster may have been killed without cleaning up.
	if err := cleanup(opts); err != nil {
		return State{}, err
	}

	logFile, err := os.OpenFile(opts.path(LogFile), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return State{}, err
	}
	defer func() { _ = logFile.Close() }()
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		return State{}, err
	}
	defer func() { _ = devNull.Close() }()

	cmd := exec.Command(serve[0], serve[1:]...) //nolint:gosec // our own binary and flags
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devNull, logFile, logFile
	// A session of its own: the cluster outlives make and ignores its terminal's ^C.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return State{}, fmt.Errorf("starting %s: %w", serve[0], err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	opts.logf("starting etcd and kube-apiserver (pid %d, log %s)", cmd.Process.Pid, opts.path(LogFile))
	s, err := waitReady(ctx, opts, cmd.Process.Pid, exited)
	if err != nil {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		return s, err
	}
	return s, nil
}

func waitReady(ctx context.Context, opts Options, pid int, exited <-chan error) (State, error) {
	ctx, cancel := context.WithTimeout(ctx, 4*opts.StartTimeout)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			return State{}, fmt.Errorf("the cluster process exited (%v); last lines of %s:\n%s",
				err, opts.path(LogFile), tail(opts.path(LogFile), 20))
		case <-ctx.Done():
			return State{}, fmt.Errorf("waiting for the cluster (pid %d): %w; see %s", pid, ctx.Err(), opts.path(LogFile))
		case <-tick.C:
			if exited == nil && !alive(pid) {
				return State{}, fmt.Errorf("the cluster process %d exited; see %s", pid, opts.path(LogFile))
			}
			s, err := ReadState(opts.Dir)
			if err != nil || s.PID != pid || !s.Ready {
				continue
			}
			if err := checkAPI(ctx, s.Kubeconfig); err != nil {
				return s, err
			}
			opts.logf("ready: API server %s, kubeconfig %s", s.Host, s.Kubeconfig)
			return s, nil
		}
	}
}

// checkAPI lists namespaces through kubeconfig, as `kubectl get ns` would.
func checkAPI(ctx context.Context, kubeconfig string) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("loading %s: %w", kubeconfig, err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err != nil {
		return fmt.Errorf("listing namespaces: %w", err)
	}
	return nil
}

// Down stops the background cluster in opts.Dir: SIGTERM, then a wait for a clean stop
// (etcd and kube-apiserver stopped, their data directories removed). Processes still
// alive after that are killed by pid and reported. Down on a stopped cluster only
// cleans up what a crashed one left behind.
func Down(opts Options) error {
	opts.defaults()
	pid := readPID(opts.Dir)
	if pid == 0 || processName(pid) != serveName {
		opts.logf("not running")
		return cleanup(opts)
	}
	// Remember the control plane processes before their parent goes away.
	s, _ := ReadState(opts.Dir)
	s.Children = mergeProcs(s.Children, children(pid))
	opts.logf("stopping pid %d (%s)", pid, procList(s.Children))
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	if !waitGone(pid, 90*time.Second) {
		opts.logf("pid %d did not stop in time; killing it", pid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
		waitGone(pid, 10*time.Second)
	}
	if err := writeStateIfAbsent(opts, s); err != nil {
		return err
	}
	if err := cleanup(opts); err != nil {
		return err
	}
	opts.logf("stopped; no etcd or kube-apiserver left")
	return nil
}

// cleanup kills the control plane processes a dead cluster recorded, removes its data
// directories and its files.
func cleanup(opts Options) error {
	s, err := ReadState(opts.Dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var errs []error
	for _, c := range s.Children {
		if processName(c.PID) != c.Name {
			continue
		}
		opts.logf("%s (pid %d) is still running; killing it", c.Name, c.PID)
		_ = syscall.Kill(c.PID, syscall.SIGKILL)
		if !waitGone(c.PID, 10*time.Second) {
			errs = append(errs, fmt.Errorf("%s (pid %d) does not stop", c.Name, c.PID))
		}
	}
	for _, d := range s.DataDirs {
		if _, err := os.Stat(d); err == nil {
			opts.logf("removing leftover %s", d)
			errs = append(errs, os.RemoveAll(d))
		}
	}
	for _, f := range []string{PIDFile, StateFile, KubeconfigFile} {
		if err := os.Remove(opts.path(f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// writeStateIfAbsent records s when the stopped process removed its state file, so that
// cleanup can check its children.
func writeStateIfAbsent(opts Options, s State) error {
	if _, err := os.Stat(opts.path(StateFile)); err == nil {
		return nil
	}
	return writeState(opts, s)
}

func waitGone(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for alive(pid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
	return true
}

func readPID(dir string) int {
	b, err := os.ReadFile(dir + "/" + PIDFile)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0
	}
	return pid
}

func mergeProcs(a, b []Proc) []Proc {
	out := append([]Proc(nil), a...)
	for _, p := range b {
		found := false
		for _, q := range a {
			found = found || q.PID == p.PID
		}
		if !found {
			out = append(out, p)
		}
	}
	return out
}

func procList(ps []Proc) string {
	parts := make([]string, 0, len(ps))
	for _, p := range ps {
		parts = append(parts, fmt.Sprintf("%s %d", p.Name, p.PID))
	}
	return strings.Join(parts, ", ")
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path) //nolint:gosec // our own log file
	if err != nil {
		return err.Error()
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

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

// Package localcluster (a development tool, not the product) runs a local Kubernetes
// control plane (etcd and kube-apiserver on 127.0.0.1) through controller-runtime's
// envtest package, for `make cluster-up`, `make demo` and the end-to-end tests.
//
// Serve runs the control plane in the foreground until its context ends. Up starts Serve
// in a detached background process and returns once the API server answers; Down stops
// that process with SIGTERM and makes sure no etcd or kube-apiserver is left behind.
package localcluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/kubesaga/kubesaga/internal/dev/controlplane"
)

// File names inside Options.Dir.
const (
	KubeconfigFile = "kubeconfig"
	PIDFile        = "cluster.pid"
	StateFile      = "cluster.json"
	LogFile        = "cluster.log"
)

// Options configures a local control plane.
type Options struct {
	// Dir holds the kubeconfig, pid, state and log files (e.g. ".local").
	Dir string
	// AssetsDir holds etcd, kube-apiserver and kubectl (setup-envtest layout). When
	// empty, KUBEBUILDER_ASSETS is used. KUBEBUILDER_ASSETS, when set, wins (envtest rule).
	AssetsDir string
	// CRDDirs are directories of CRD manifests installed at start. Missing directories
	// are skipped, so the cluster starts before the first CRD is generated.
	CRDDirs []string
	// StartTimeout bounds the start of each control plane component.
	StartTimeout time.Duration
	// ControlPlaneOutput, when true, sends etcd's and kube-apiserver's own logs to the
	// process's stdout and stderr (the log file for a background cluster).
	ControlPlaneOutput bool
	// Log receives progress messages. Nil means os.Stderr.
	Log io.Writer
}

// State is what a running cluster records in Options.Dir/cluster.json, so that Down can
// verify that every process it started is gone.
type State struct {
	PID        int       `json:"pid"`
	Ready      bool      `json:"ready"`
	Host       string    `json:"host,omitempty"`
	Kubeconfig string    `json:"kubeconfig,omitempty"`
	Children   []Proc    `json:"children,omitempty"`
	DataDirs   []string  `json:"dataDirs,omitempty"`
	CRDs       []string  `json:"crds,omitempty"`
	StartedAt  time.Time `json:"startedAt"`
}

// Proc is a control plane process started by the cluster.
type Proc struct {
	PID  int    `json:"pid"`
	Name string `json:"name"`
}

func (o *Options) defaults() {
	if o.Dir == "" {
		o.Dir = ".local"
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 90 * time.Second
	}
	if o.Log == nil {
		o.Log = os.Stderr
	}
}

func (o *Options) path(name string) string { return filepath.Join(o.Dir, name) }

func (o *Options) logf(format string, args ...any) {
	_, _ = fmt.Fprintf(o.Log, "%s localcluster: %s\n", time.Now().Format(time.RFC3339), fmt.Sprintf(format, args...))
}

// Serve starts etcd and kube-apiserver, installs the CRDs, creates an admin user
// (system:masters) whose kubeconfig it writes to Dir/kubeconfig, records its pid and
// state, and blocks until ctx ends or a control plane process dies. It then stops the
// control plane (its data directories are removed) and removes its pid and state files.
func Serve(ctx context.Context, opts Options) (err error) {
	opts.defaults()
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return err
	}
	self := os.Getpid()
	if err := writeFileAtomic(opts.path(PIDFile), fmt.Appendf(nil, "%d\n", self), 0o640); err != nil {
		return err
	}
	state := State{PID: self, StartedAt: time.Now().UTC()}
	if err := writeState(opts, state); err != nil {
		return err
	}
	defer func() {
		_ = os.Remove(opts.path(StateFile))
		_ = os.Remove(opts.path(PIDFile))
	}()

	var crdDirs []string
	for _, d := range opts.CRDDirs {
		if _, statErr := os.Stat(d); statErr == nil {
			crdDirs = append(crdDirs, d)
		} else {
			opts.logf("CRD directory %s not found; skipping it", d)
		}
	}
	opts.logf("starting etcd and kube-apiserver (assets: %s)", assetsDir(opts))
	cp, err := controlplane.Start(controlplane.Options{
		AssetsDir: opts.AssetsDir, CRDDirs: crdDirs, NoCRDs: len(crdDirs) == 0,
		Admin: "kubesaga-admin", KubeconfigPath: opts.path(KubeconfigFile),
		StartTimeout: opts.StartTimeout, AttachOutput: opts.ControlPlaneOutput,
	})
	if err != nil {
		return err
	}
	defer func() {
		opts.logf("stopping the control plane")
		if stopErr := cp.Stop(); stopErr != nil {
			err = errors.Join(err, stopErr)
			return
		}
		_ = os.Remove(cp.KubeconfigPath)
		opts.logf("stopped")
	}()
	env, kcPath := cp.Env, cp.KubeconfigPath

	state.Ready = true
	state.Host = cp.Config.Host
	state.Kubeconfig = kcPath
	state.Children = children(self)
	state.DataDirs = []string{env.ControlPlane.Etcd.DataDir, env.ControlPlane.APIServer.CertDir}
	for _, crd := range env.CRDs {
		state.CRDs = append(state.CRDs, crd.Name)
	}
	if err := writeState(opts, state); err != nil {
		return err
	}
	opts.logf("ready: API server %s, kubeconfig %s, CRDs %v, processes %v", state.Host, kcPath, state.CRDs, state.Children)

	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			opts.logf("%v: shutting down", context.Cause(ctx))
			return nil
		case <-tick.C:
			for _, c := range state.Children {
				if !alive(c.PID) {
					return fmt.Errorf("%s (pid %d) exited unexpectedly", c.Name, c.PID)
				}
			}
		}
	}
}

func assetsDir(opts Options) string {
	if v := os.Getenv("KUBEBUILDER_ASSETS"); v != "" {
		return v
	}
	return opts.AssetsDir
}

// ReadState returns the recorded state of the cluster in dir, or an error wrapping
// os.ErrNotExist when none is recorded.
func ReadState(dir string) (State, error) {
	var s State
	b, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(b, &s)
}

func writeState(opts Options, s State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(opts.path(StateFile), append(b, '\n'), 0o640)
}

func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

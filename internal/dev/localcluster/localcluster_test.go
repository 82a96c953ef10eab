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
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestProcStatOfSelf(t *testing.T) {
	name, state, ppid, ok := procStat(os.Getpid())
	if !ok || name == "" || state == 0 || ppid != os.Getppid() {
		t.Fatalf("procStat(self) = %q %q %d %v; want our name and parent %d", name, state, ppid, ok, os.Getppid())
	}
	if !alive(os.Getpid()) || alive(0) || alive(-1) {
		t.Fatal("alive: want true for self, false for 0 and -1")
	}
}

func TestMergeProcs(t *testing.T) {
	got := mergeProcs([]Proc{{1, "etcd"}}, []Proc{{1, "etcd"}, {2, "kube-apiserver"}})
	if len(got) != 2 || got[1].PID != 2 {
		t.Fatalf("mergeProcs = %v", got)
	}
}

// TestServe starts a real control plane (etcd + kube-apiserver from KUBEBUILDER_ASSETS;
// `make test` sets it), checks that it answers through the written kubeconfig, then stops
// it and checks that its processes and data directories are gone.
func TestServe(t *testing.T) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run `make test` (or `make envtest` and export what it prints)")
	}
	dir := t.TempDir()
	crds := filepath.Join(dir, "no-crds-yet") // missing CRD directories are skipped
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, Options{Dir: dir, CRDDirs: []string{crds}, Log: testWriter{t}})
	}()

	var s State
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var err error
		if s, err = ReadState(dir); err == nil && s.Ready {
			break
		}
		select {
		case err := <-served:
			t.Fatalf("Serve returned before it was ready: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the control plane was not ready within 2 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := checkAPI(ctx, filepath.Join(dir, KubeconfigFile)); err != nil {
		t.Fatalf("the API server does not answer through the kubeconfig: %v", err)
	}
	if len(s.Children) != 2 || len(s.DataDirs) != 2 {
		t.Fatalf("state = %+v; want etcd and kube-apiserver with their data directories", s)
	}

	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Serve did not stop within a minute")
	}
	for _, c := range s.Children {
		if waitGone(c.PID, 5*time.Second); processName(c.PID) == c.Name {
			t.Errorf("%s (pid %d) still runs", c.Name, c.PID)
		}
	}
	for _, d := range append(s.DataDirs, filepath.Join(dir, PIDFile), filepath.Join(dir, StateFile), filepath.Join(dir, KubeconfigFile)) {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("%s is left behind", d)
		}
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

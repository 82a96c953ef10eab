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

// Package chaos runs kubesaga as real processes (envtest's etcd and kube-apiserver, the
// three participant services and the manager, built from cmd/) and breaks them while
// Orders (and, in TestChaos, Sagas of the Order saga's template) run: SIGKILLed and
// restarted operator and services, a service slower than the step timeout, a SIGKILLed
// leader among two replicas. Afterwards it checks that nothing was lost or done twice.
// The short form runs in `go test ./...`; `make chaos` runs the full one
// (KUBESAGA_CHAOS_ORDERS=500, KUBESAGA_CHAOS_SAGAS=100).
package chaos

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/kubesaga/kubesaga/internal/dev/binaries"
	"github.com/kubesaga/kubesaga/internal/dev/controlplane"
)

// env is what every test of the package shares: the binaries and the control plane.
var env struct {
	binDir     string
	kubeconfig string
	cfg        *rest.Config
	tmp        string
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	logf.SetLogger(logr.Discard()) // the processes log to their own files
	tmp, err := os.MkdirTemp("", "kubesaga-chaos-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	keep := false
	defer func() {
		if !keep {
			_ = os.RemoveAll(tmp)
		}
	}()
	env.tmp = tmp
	env.binDir = filepath.Join(tmp, "bin")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	if err := binaries.Build(ctx, env.binDir); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return 1
	}
	fmt.Printf("chaos: built the binaries in %s\n", time.Since(start).Round(time.Millisecond))

	cp, err := controlplane.Start(controlplane.Options{Admin: "chaos-admin", KubeconfigPath: filepath.Join(tmp, "kubeconfig")})
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return 1
	}
	defer func() { _ = cp.Stop() }()
	env.cfg, env.kubeconfig = cp.Config, cp.KubeconfigPath
	code := m.Run()
	if code != 0 && os.Getenv("KUBESAGA_CHAOS_KEEP") != "" {
		keep = true
		fmt.Printf("chaos: kept %s (logs and SQLite files of the failed run)\n", tmp)
	}
	return code
}

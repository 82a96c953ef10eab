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

// Package charts checks the Helm charts under charts/ with the real tools: helm v4 (built
// into bin/ by `make helm`), kubectl and kube-apiserver from the envtest assets
// (KUBEBUILDER_ASSETS, `make envtest`), and the real binaries of the four programs.
//
//   - helm lint --strict passes on each chart, and values.schema.json refuses bad values;
//   - helm template output is accepted by a real API server (kubectl apply --dry-run=server),
//     and its pods pass the "restricted" Pod Security Standard;
//   - helm install of all four charts into that API server succeeds;
//   - the chart's CRD is config/crd/bases, and its RBAC is exactly config/rbac/role.yaml;
//   - each participant binary, started with exactly the command, args, env and port of the
//     rendered Deployment, answers 200 on the rendered readiness and liveness probe paths;
//   - the manager's flag set accepts every rendered manager argument.
//
// `make test` and `make test-charts` provide helm, kubectl and KUBEBUILDER_ASSETS.
package charts

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/kubesaga/kubesaga/internal/dev/controlplane"
)

// testToken is the bearer token the tests give the charts (auth.token).
const testToken = "chart-tests-token-0123456789"

var (
	root         = mustAbs("../..")
	operator     = "kubesaga"
	participants = []string{"carts", "stocks", "sales"}
	allCharts    = append([]string{operator}, participants...)
)

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		panic(err)
	}
	return a
}

// helmPath finds helm: $HELM, else bin/helm (make helm), else PATH.
func helmPath(t *testing.T) string {
	t.Helper()
	if h := os.Getenv("HELM"); h != "" {
		return h
	}
	if _, err := os.Stat(filepath.Join(root, "bin", "helm")); err == nil {
		return filepath.Join(root, "bin", "helm")
	}
	if h, err := exec.LookPath("helm"); err == nil {
		return h
	}
	t.Fatal("helm not found: run `make helm` (it installs helm v4 into bin/), or set HELM")
	return ""
}

// run runs a command and returns its stdout; stderr is returned in the error.
func run(t *testing.T, stdin []byte, name string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = root
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if err != nil {
		err = fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, e.String())
	}
	return o.String(), e.String(), err
}

func mustRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, _, err := run(t, nil, name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// helmTemplate renders a chart (release name = chart name, as the docs install them).
func helmTemplate(t *testing.T, chart, namespace string, set ...string) string {
	t.Helper()
	args := make([]string, 0, 5+2*len(set))
	args = append(args, "template", chart, filepath.Join(root, "charts", chart), "--namespace", namespace)
	for _, s := range set {
		args = append(args, "--set", s)
	}
	return mustRun(t, helmPath(t), args...)
}

// docs splits a multi-document YAML stream into its non-empty documents.
func docs(t *testing.T, manifest string) [][]byte {
	t.Helper()
	r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(manifest)))
	var out [][]byte
	for {
		d, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(d, &m); err != nil {
			t.Fatalf("rendered YAML does not parse: %v\n%s", err, d)
		}
		if len(m) > 0 {
			out = append(out, d)
		}
	}
}

// object returns the one rendered object of a kind, decoded into out.
func object(t *testing.T, manifest, kind string, out any) {
	t.Helper()
	found := 0
	for _, d := range docs(t, manifest) {
		var tm struct{ Kind string }
		if err := yaml.Unmarshal(d, &tm); err != nil {
			t.Fatal(err)
		}
		if tm.Kind == kind {
			found++
			if err := yaml.UnmarshalStrict(d, out); err != nil {
				t.Fatalf("%s does not decode strictly: %v", kind, err)
			}
		}
	}
	if found != 1 {
		t.Fatalf("rendered %d objects of kind %s, want 1", found, kind)
	}
}

// Control plane: one envtest API server for the whole package, started on first use.
var (
	cpOnce sync.Once
	cp     *controlplane.ControlPlane
	cpErr  error
)

// kubeconfig is the admin kubeconfig of the package's control plane, started on first
// use without CRDs: the charts install them.
func kubeconfig(t *testing.T) string {
	t.Helper()
	cpOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kubesaga-charts-")
		if err != nil {
			cpErr = err
			return
		}
		cp, cpErr = controlplane.Start(controlplane.Options{NoCRDs: true, Admin: "chart-tests",
			KubeconfigPath: filepath.Join(dir, "kubeconfig")})
	})
	if cpErr != nil {
		t.Fatal(cpErr)
	}
	return cp.KubeconfigPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	if cp != nil {
		if err := cp.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		_ = os.RemoveAll(filepath.Dir(cp.KubeconfigPath))
	}
	os.Exit(code)
}

func kubectl(t *testing.T, stdin []byte, args ...string) (string, string, error) {
	t.Helper()
	kc := kubeconfig(t)
	return run(t, stdin, cp.Kubectl(), append([]string{"--kubeconfig", kc}, args...)...)
}

// restrictedNamespace creates a namespace that enforces (and warns about) the
// "restricted" Pod Security Standard.
func restrictedNamespace(t *testing.T, name string) {
	t.Helper()
	ns := fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata:
  name: %s
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/warn: restricted
`, name)
	if _, _, err := kubectl(t, []byte(ns), "apply", "-f", "-"); err != nil {
		t.Fatal(err)
	}
}

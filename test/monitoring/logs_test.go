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

package monitoring

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// TestManagerLogsAreAllJSON runs the real manager binary with --log-format=json and
// leader election on, and reads its stderr until it has taken the Lease: every line,
// client-go's leader election lines (klog) included, is one JSON object, and keys are
// camelCase.
func TestManagerLogsAreAllJSON(t *testing.T) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run `make envtest` and use `make test`")
	}
	bin := filepath.Join(t.TempDir(), "manager")
	build := exec.Command("go", "build", "-o", bin, "./cmd/manager")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/manager: %v\n%s", err, out)
	}
	env := &envtest.Environment{CRDDirectoryPaths: []string{filepath.Join(root, "config", "crd", "bases")}, ErrorIfCRDPathMissing: true}
	if _, err := env.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	user, err := env.AddUser(envtest.User{Name: "manager", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	kcPath := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kcPath, kc, 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a bound for a hung run
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--kubeconfig="+kcPath, "--leader-elect=true", "--leader-election-namespace=default",
		"--metrics-bind-address=0", "--health-probe-bind-address=0", "--log-format=json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var lines int
	leaderLine := false
	for !leaderLine && sc.Scan() {
		line := sc.Text()
		lines++
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("log line %d is not JSON: %s", lines, line)
			continue
		}
		for k := range m {
			if strings.ContainsAny(k, "_- ") {
				t.Errorf("log key %q is not camelCase: %s", k, line)
			}
		}
		// client-go's leaderelection logs this through klog once it holds the Lease.
		if msg, _ := m["msg"].(string); strings.Contains(strings.ToLower(msg), "successfully acquired lease") {
			leaderLine = true
		}
	}
	if !leaderLine {
		t.Fatalf("the manager never logged (in JSON) that it acquired the lease; %d lines read, scan error %v", lines, sc.Err())
	}
}

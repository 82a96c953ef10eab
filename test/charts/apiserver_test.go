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

package charts

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// b. rendered charts are accepted by a real API server, and pass Pod Security "restricted".
// variants renders each chart twice: with the defaults and with the optional parts on.
var variants = map[string][][]string{
	operator: {nil, {"auth.token=" + testToken, "replicaCount=2", "extraArgs[0]=--v=1", "logFormat=text"}},
	"participant": {nil, {"auth.token=" + testToken, "persistence.existingClaim=data", "networkPolicy.metrics.podLabels.app=prometheus",
		"networkPolicy.extraIngress[0].ports[0].port=8080"}},
}

func TestServerDryRun(t *testing.T) {
	const ns = "dry-run"
	restrictedNamespace(t, ns)
	for _, c := range allCharts {
		vs := variants[operator]
		if c != operator {
			vs = variants["participant"]
		}
		for i, set := range vs {
			t.Run(fmt.Sprintf("%s/%d", c, i), func(t *testing.T) {
				manifest := helmTemplate(t, c, ns, set...)
				out, stderr, err := kubectl(t, []byte(manifest), "apply", "--dry-run=server", "-f", "-")
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(stderr, "PodSecurity") || strings.Contains(stderr, "Warning") {
					t.Errorf("the API server warns:\n%s", stderr)
				}
				if !strings.Contains(out, "deployment.apps/") {
					t.Errorf("no Deployment applied:\n%s", out)
				}
			})
		}
	}
	// Negative control: the namespace's Pod Security admission is really on.
	t.Run("control", func(t *testing.T) {
		bad := `apiVersion: apps/v1
kind: Deployment
metadata: {name: bad}
spec:
  selector: {matchLabels: {app: bad}}
  template:
    metadata: {labels: {app: bad}}
    spec: {containers: [{name: bad, image: bad}]}
`
		_, stderr, err := kubectl(t, []byte(bad), "apply", "--dry-run=server", "-n", ns, "-f", "-")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stderr, "PodSecurity") {
			t.Fatalf("a non-compliant Deployment drew no PodSecurity warning, so the check above proves nothing:\n%s", stderr)
		}
	})
}

// TestPodSecurity asserts the restricted settings explicitly (issue 6: non-root, read-only
// root filesystem, no privilege escalation), beyond what Pod Security admission demands.
func TestPodSecurity(t *testing.T) {
	for _, c := range allCharts {
		t.Run(c, func(t *testing.T) {
			var d appsv1.Deployment
			object(t, helmTemplate(t, c, "default"), "Deployment", &d)
			pod := d.Spec.Template.Spec
			if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
				t.Error("pod securityContext.runAsNonRoot is not true")
			}
			for _, ctr := range pod.Containers {
				sc := ctr.SecurityContext
				switch {
				case sc == nil:
					t.Fatalf("container %s has no securityContext", ctr.Name)
				case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser != 65532:
					t.Errorf("container %s: not runAsNonRoot with runAsUser 65532", ctr.Name)
				case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
					t.Errorf("container %s: root filesystem is writable", ctr.Name)
				case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
					t.Errorf("container %s: privilege escalation allowed", ctr.Name)
				case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
					t.Errorf("container %s: capabilities not dropped", ctr.Name)
				case sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
					t.Errorf("container %s: no RuntimeDefault seccomp profile", ctr.Name)
				}
			}
		})
	}
}

// c. helm install of all four.
func TestInstall(t *testing.T) {
	kc := kubeconfig(t)
	helm := helmPath(t)
	const ns = "kubesaga"
	restrictedNamespace(t, ns)
	// The operator's chart creates the token Secret (kubesaga-token); the participants use it,
	// as docs/charts.md describes.
	installs := map[string][]string{
		operator: {"auth.token=" + testToken},
	}
	for _, p := range participants {
		installs[p] = []string{"auth.existingSecret=kubesaga-token"}
	}
	for _, c := range allCharts {
		args := make([]string, 0, 7+2*len(installs[c]))
		args = append(args, "install", c, filepath.Join(root, "charts", c), "--kubeconfig", kc, "--namespace", ns)
		for _, s := range installs[c] {
			args = append(args, "--set", s)
		}
		out := mustRun(t, helm, args...)
		if !strings.Contains(out, "STATUS: deployed") {
			t.Errorf("helm install %s:\n%s", c, out)
		}
	}
	out := mustRun(t, helm, "list", "--kubeconfig", kc, "--namespace", ns, "--output", "json")
	var releases []struct{ Name, Status, Chart string }
	if err := yaml.Unmarshal([]byte(out), &releases); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range releases {
		got[r.Name] = r.Status
	}
	for _, c := range allCharts {
		if got[c] != "deployed" {
			t.Errorf("helm list: release %s is %q, want deployed (list: %s)", c, got[c], out)
		}
	}
	// What the operator depends on is really there: the CRD is served, the Services are named
	// as the operator's default URLs expect, the Secret exists.
	if _, _, err := kubectl(t, nil, "get", "orders", "--all-namespaces"); err != nil {
		t.Errorf("the Order CRD is not served after install: %v", err)
	}
	if _, _, err := kubectl(t, nil, "-n", ns, "get", "service/carts", "service/stocks", "service/sales",
		"secret/kubesaga-token", "deployment/kubesaga", "networkpolicy/stocks", "pvc/stocks-data"); err != nil {
		t.Error(err)
	}
}

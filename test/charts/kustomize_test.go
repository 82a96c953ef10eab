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

// The kustomize install (config/default, as kubebuilder scaffolds it): `kubectl kustomize`
// (kustomize built into the envtest kubectl, what `make deploy` and `make build-installer`
// run) renders it, and a real API server accepts it with --dry-run=server; the optional
// config/prometheus and config/network-policy parts too, added the way a user uncomments
// them in config/default.

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubesaga/kubesaga/controllers"
)

// kustomizeBuild runs `kubectl kustomize dir`.
func kustomizeBuild(t *testing.T, dir string) string {
	t.Helper()
	kubeconfig(t) // starts the package's control plane, whose kubectl this is
	return mustRun(t, cp.Kubectl(), "kustomize", dir)
}

// kinds counts the rendered objects by "Kind/name".
func kinds(t *testing.T, manifest string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, d := range docs(t, manifest) {
		var m struct {
			Kind     string
			Metadata struct{ Name, Namespace string }
		}
		if err := yaml.Unmarshal(d, &m); err != nil {
			t.Fatal(err)
		}
		got[m.Kind+"/"+m.Metadata.Name] = m.Metadata.Namespace
	}
	return got
}

// applyDryRun applies a manifest with --dry-run=server after creating, for real, the
// Namespace it declares (a server dry run cannot create what later objects live in).
func applyDryRun(t *testing.T, manifest string) string {
	t.Helper()
	for _, d := range docs(t, manifest) {
		var m struct{ Kind string }
		if err := yaml.Unmarshal(d, &m); err != nil {
			t.Fatal(err)
		}
		if m.Kind == "Namespace" {
			if _, _, err := kubectl(t, d, "apply", "-f", "-"); err != nil {
				t.Fatal(err)
			}
		}
	}
	out, stderr, err := kubectl(t, []byte(manifest), "apply", "--dry-run=server", "-f", "-")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(stderr, "\n") {
		// The CRD may already be installed by TestInstall's `helm install` in this shared API
		// server; kubectl then notes that helm's copy lacks its last-applied annotation.
		if strings.Contains(line, "last-applied-configuration") {
			continue
		}
		if strings.Contains(line, "PodSecurity") || strings.Contains(line, "Warning") {
			t.Errorf("the API server warns:\n%s", stderr)
		}
	}
	return out
}

func TestKustomizeDefault(t *testing.T) {
	manifest := kustomizeBuild(t, filepath.Join(root, "config", "default"))
	got := kinds(t, manifest)
	const ns = "kubesaga-system"
	for obj, wantNS := range map[string]string{
		"Namespace/kubesaga-system":                           "",
		"CustomResourceDefinition/orders.saga.kubesaga.io":    "",
		"ServiceAccount/kubesaga-controller-manager":          ns,
		"ClusterRole/kubesaga-manager-role":                   "",
		"ClusterRoleBinding/kubesaga-manager-rolebinding":     "",
		"Role/kubesaga-leader-election-role":                  ns,
		"RoleBinding/kubesaga-leader-election-rolebinding":    ns,
		"ClusterRole/kubesaga-order-viewer-role":              "",
		"ClusterRole/kubesaga-order-editor-role":              "",
		"ClusterRole/kubesaga-order-admin-role":               "",
		"Deployment/kubesaga-controller-manager":              ns,
		"Service/kubesaga-controller-manager-metrics-service": ns,
	} {
		gotNS, ok := got[obj]
		if !ok {
			t.Errorf("config/default lacks %s", obj)
		} else if gotNS != wantNS {
			t.Errorf("%s is in namespace %q, want %q", obj, gotNS, wantNS)
		}
	}
	if len(got) != 12 {
		t.Errorf("config/default renders %d objects, want 12: %v", len(got), got)
	}
	out := applyDryRun(t, manifest)
	if !strings.Contains(out, "deployment.apps/kubesaga-controller-manager created (server dry run)") {
		t.Errorf("the Deployment was not accepted:\n%s", out)
	}

	// The generated role is the one the chart and the tests check (config/rbac/role.yaml).
	var d appsv1.Deployment
	object(t, manifest, "Deployment", &d)
	ctr := d.Spec.Template.Spec.Containers[0]
	if d.Spec.Template.Spec.ServiceAccountName != "kubesaga-controller-manager" {
		t.Errorf("the manager runs as %q", d.Spec.Template.Spec.ServiceAccountName)
	}
	if ctr.Image != "kubesaga/manager:dev" || !slices.Equal(ctr.Command, []string{"/manager"}) {
		t.Errorf("image %q command %q, want kubesaga/manager:dev and [/manager]", ctr.Image, ctr.Command)
	}
	// The participant charts' NetworkPolicies admit the operator by these labels.
	labels := d.Spec.Template.Labels
	if labels["app.kubernetes.io/name"] != "kubesaga" || labels["app.kubernetes.io/component"] != "manager" {
		t.Errorf("pod labels %v lack app.kubernetes.io/name=kubesaga, app.kubernetes.io/component=manager", labels)
	}
	var o controllers.ManagerOptions
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.BindFlags(fs)
	if err := fs.Parse(ctr.Args); err != nil || fs.NArg() != 0 {
		t.Fatalf("the manager refuses the rendered args %q: %v %q", ctr.Args, err, fs.Args())
	}
	if err := o.Validate(); err != nil {
		t.Fatalf("the manager refuses the rendered settings: %v", err)
	}
	if !o.LeaderElect || o.MetricsAddr != ":8080" || o.ProbeAddr != ":8081" {
		t.Errorf("leader election %v, metrics %q, probes %q; want on, :8080, :8081", o.LeaderElect, o.MetricsAddr, o.ProbeAddr)
	}
	ports := map[string]int32{}
	for _, p := range ctr.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if ports["metrics"] != 8080 || ports["probes"] != 8081 {
		t.Errorf("container ports %v, want metrics 8080 and probes 8081", ports)
	}
	for _, p := range []*corev1.Probe{ctr.LivenessProbe, ctr.ReadinessProbe} {
		if probePort(t, ctr, p) != 8081 {
			t.Errorf("probe %s is not on the probe port 8081", p.HTTPGet.Path)
		}
	}
}

// TestKustomizeOptionalParts enables config/prometheus and config/network-policy the way
// config/default's comments say, in an overlay, and applies the result.
func TestKustomizeOptionalParts(t *testing.T) {
	// The ServiceMonitor kind is served once the prometheus-operator CRD is installed; the
	// test installs a structural stand-in of it (testdata), as a cluster with
	// kube-prometheus-stack would have the real one.
	if _, _, err := kubectl(t, nil, "apply", "-f", filepath.Join(root, "test", "charts", "testdata", "monitoring-crds.yaml")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := kubectl(t, nil, "wait", "--for=condition=Established", "crd/servicemonitors.monitoring.coreos.com",
		"crd/podmonitors.monitoring.coreos.com", "crd/prometheusrules.monitoring.coreos.com"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "config", "default", "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	enabled := string(b)
	for _, line := range []string{"#- ../prometheus", "#- ../network-policy"} {
		if !strings.Contains(enabled, line) {
			t.Fatalf("config/default/kustomization.yaml lacks the commented line %q", line)
		}
		enabled = strings.Replace(enabled, line, line[1:], 1)
	}
	// The overlay is a copy of config/default with the two lines uncommented, in a
	// temporary folder: its bases are named by a relative path from there (kustomize
	// refuses absolute ones).
	dir := t.TempDir()
	for _, base := range []string{"crd", "rbac", "manager", "prometheus", "network-policy"} {
		rel, err := filepath.Rel(dir, filepath.Join(root, "config", base))
		if err != nil {
			t.Fatal(err)
		}
		enabled = strings.ReplaceAll(enabled, "- ../"+base+"\n", "- "+rel+"\n")
	}
	entries, err := os.ReadDir(filepath.Join(root, "config", "default"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		src, err := os.ReadFile(filepath.Join(root, "config", "default", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "kustomization.yaml" {
			src = []byte(enabled)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	manifest := kustomizeBuild(t, dir)
	got := kinds(t, manifest)
	for _, obj := range []string{"ServiceMonitor/kubesaga-controller-manager-metrics-monitor", "NetworkPolicy/kubesaga-allow-metrics-traffic"} {
		if got[obj] != "kubesaga-system" {
			t.Errorf("with prometheus and network-policy enabled, %s is missing or outside kubesaga-system (%v)", obj, got)
		}
	}
	out := applyDryRun(t, manifest)
	for _, want := range []string{"servicemonitor.monitoring.coreos.com/kubesaga-controller-manager-metrics-monitor created (server dry run)",
		"networkpolicy.networking.k8s.io/kubesaga-allow-metrics-traffic created (server dry run)"} {
		if !strings.Contains(out, want) {
			t.Errorf("kubectl apply --dry-run=server did not report %q:\n%s", want, out)
		}
	}
	// The ServiceMonitor scrapes the metrics Service's port by name.
	var sm struct {
		Spec struct {
			Endpoints []struct{ Port, Path, Scheme string }
			Selector  struct{ MatchLabels map[string]string }
		}
	}
	var svc corev1.Service
	var np struct {
		Spec struct {
			PodSelector struct{ MatchLabels map[string]string }
			Ingress     []struct{ Ports []struct{ Port int32 } }
		}
	}
	for _, d := range docs(t, manifest) {
		var m struct{ Kind string }
		_ = yaml.Unmarshal(d, &m)
		switch m.Kind {
		case "ServiceMonitor":
			_ = yaml.Unmarshal(d, &sm)
		case "Service":
			_ = yaml.Unmarshal(d, &svc)
		case "NetworkPolicy":
			_ = yaml.Unmarshal(d, &np)
		}
	}
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != svc.Spec.Ports[0].Name || sm.Spec.Endpoints[0].Path != "/metrics" {
		t.Errorf("ServiceMonitor endpoints %+v do not match the metrics Service port %q", sm.Spec.Endpoints, svc.Spec.Ports[0].Name)
	}
	for k, v := range sm.Spec.Selector.MatchLabels {
		if svc.Labels[k] != v {
			t.Errorf("ServiceMonitor selects %s=%s, which the metrics Service lacks (%v)", k, v, svc.Labels)
		}
	}
	if len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].Ports) != 1 || np.Spec.Ingress[0].Ports[0].Port != 8080 {
		t.Errorf("NetworkPolicy ingress %+v does not open the metrics port 8080", np.Spec.Ingress)
	}
}

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

// Chart details operators ask for (issue 16, point 7): PodDisruptionBudget, topology
// spread, overridable security contexts, image digests, extra env and objects, aggregated
// view/edit ClusterRoles, the `helm test` hook, and a README that cannot drift from values.yaml.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

// valuePaths lists the keys of a values tree: a map with keys is walked into; anything
// else (scalars, lists, empty maps) is a leaf.
func valuePaths(prefix string, v any, out *[]string) {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		*out = append(*out, prefix)
		return
	}
	for k, child := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		valuePaths(p, child, out)
	}
}

var readmeKey = regexp.MustCompile("`([A-Za-z0-9_.]+)`")

// readmeKeys returns the keys named in the first column of the README's Values table.
func readmeKeys(t *testing.T, readme string) []string {
	t.Helper()
	_, table, ok := strings.Cut(readme, "## Values\n")
	if !ok {
		t.Fatal("README has no \"## Values\" section")
	}
	var keys []string
	for _, line := range strings.Split(table, "\n") {
		if strings.HasPrefix(line, "## ") {
			break
		}
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.SplitN(line, "|", 3)[1]
		for _, m := range readmeKey.FindAllStringSubmatch(first, -1) {
			keys = append(keys, m[1])
		}
	}
	return keys
}

// TestREADMEDocumentsEveryValue: each key of values.yaml (or a parent of it) has a row in
// the chart README's Values table, and each row names a key values.yaml has.
func TestREADMEDocumentsEveryValue(t *testing.T) {
	for _, c := range allCharts {
		t.Run(c, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(root, "charts", c, "values.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			var values map[string]any
			if err := yaml.Unmarshal(b, &values); err != nil {
				t.Fatal(err)
			}
			var leaves []string
			valuePaths("", values, &leaves)
			sort.Strings(leaves)
			readme, err := os.ReadFile(filepath.Join(root, "charts", c, "README.md"))
			if err != nil {
				t.Fatal(err)
			}
			documented := readmeKeys(t, string(readme))
			if len(documented) < 5 {
				t.Fatalf("README's Values table names only %d keys: %v", len(documented), documented)
			}
			covered := func(leaf string) bool {
				return slices.ContainsFunc(documented, func(k string) bool { return leaf == k || strings.HasPrefix(leaf, k+".") })
			}
			for _, leaf := range leaves {
				if !covered(leaf) {
					t.Errorf("charts/%s/values.yaml has %s, which README.md's Values table does not document", c, leaf)
				}
			}
			for _, k := range documented {
				if !slices.ContainsFunc(leaves, func(l string) bool { return l == k || strings.HasPrefix(l, k+".") }) {
					t.Errorf("charts/%s/README.md documents %s, which values.yaml does not have", c, k)
				}
			}
		})
	}
}

// opsValues turns every optional operations feature on.
const opsValues = `
replicaCount: 2
image:
  digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
podDisruptionBudget:
  enabled: true
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: ScheduleAnyway
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: DoNotSchedule
    labelSelector:
      matchLabels: {custom: "yes"}
extraEnv:
  - name: OTEL_SERVICE_NAME
    value: kubesaga-manager
extraObjects:
  - apiVersion: v1
    kind: ConfigMap
    metadata:
      name: extra-as-object
    data:
      release: kubesaga
  - |
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: '{{ .Release.Name }}-extra-as-string'
`

func renderWith(t *testing.T, ns, valuesYAML string, set ...string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(f, []byte(valuesYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	args := make([]string, 0, 7+2*len(set))
	args = append(args, "template", operator, filepath.Join(root, "charts", operator), "--namespace", ns, "-f", f)
	for _, s := range set {
		args = append(args, "--set", s)
	}
	return mustRun(t, helmPath(t), args...)
}

// named decodes the rendered object of a kind and name into out (which may hold only the
// fields a test reads).
func named(t *testing.T, manifest, kind, name string, out any) {
	t.Helper()
	for _, d := range docs(t, manifest) {
		var m struct {
			Kind     string
			Metadata struct{ Name string }
		}
		if err := yaml.Unmarshal(d, &m); err != nil {
			t.Fatal(err)
		}
		if m.Kind == kind && m.Metadata.Name == name {
			if err := yaml.Unmarshal(d, out); err != nil {
				t.Fatalf("%s %s does not decode strictly: %v", kind, name, err)
			}
			return
		}
	}
	t.Fatalf("no %s named %s rendered", kind, name)
}

func TestOperationsValues(t *testing.T) {
	const ns = "ops-values"
	restrictedNamespace(t, ns)
	manifest := renderWith(t, ns, opsValues)

	var d appsv1.Deployment
	object(t, manifest, "Deployment", &d)
	pod := d.Spec.Template.Spec
	if got, want := pod.Containers[0].Image, "kubesaga/manager@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"; got != want {
		t.Errorf("image %q, want %q (image.digest wins over the tag)", got, want)
	}
	if !slices.ContainsFunc(pod.Containers[0].Env, func(e corev1.EnvVar) bool { return e.Name == "OTEL_SERVICE_NAME" && e.Value == "kubesaga-manager" }) {
		t.Errorf("extraEnv not in the manager's env: %v", pod.Containers[0].Env)
	}
	if len(pod.TopologySpreadConstraints) != 2 {
		t.Fatalf("topologySpreadConstraints: %v", pod.TopologySpreadConstraints)
	}
	zone, host := pod.TopologySpreadConstraints[0], pod.TopologySpreadConstraints[1]
	if zone.LabelSelector == nil || zone.LabelSelector.MatchLabels["app.kubernetes.io/instance"] != operator ||
		zone.LabelSelector.MatchLabels["app.kubernetes.io/component"] != "manager" {
		t.Errorf("a constraint without labelSelector should get the selector labels, got %v", zone.LabelSelector)
	}
	if host.LabelSelector == nil || len(host.LabelSelector.MatchLabels) != 1 || host.LabelSelector.MatchLabels["custom"] != "yes" {
		t.Errorf("a constraint's own labelSelector must be kept, got %v", host.LabelSelector)
	}

	var pdb policyv1.PodDisruptionBudget
	object(t, manifest, "PodDisruptionBudget", &pdb)
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 1 || pdb.Spec.MaxUnavailable != nil {
		t.Errorf("PDB minAvailable %v maxUnavailable %v, want 1 and unset", pdb.Spec.MinAvailable, pdb.Spec.MaxUnavailable)
	}
	for k, v := range pdb.Spec.Selector.MatchLabels {
		if d.Spec.Template.Labels[k] != v {
			t.Errorf("the PDB selects %s=%s, which the manager pods lack", k, v)
		}
	}
	var pdb2 policyv1.PodDisruptionBudget
	object(t, renderWith(t, ns, opsValues, "podDisruptionBudget.maxUnavailable=50%"), "PodDisruptionBudget", &pdb2)
	if pdb2.Spec.MaxUnavailable == nil || pdb2.Spec.MaxUnavailable.String() != "50%" || pdb2.Spec.MinAvailable != nil {
		t.Errorf("PDB with maxUnavailable=50%%: min %v max %v", pdb2.Spec.MinAvailable, pdb2.Spec.MaxUnavailable)
	}
	if strings.Contains(helmTemplate(t, operator, ns), "kind: PodDisruptionBudget") {
		t.Error("a PodDisruptionBudget is rendered by default")
	}

	var cm1, cm2 corev1.ConfigMap
	named(t, manifest, "ConfigMap", "extra-as-object", &cm1)
	named(t, manifest, "ConfigMap", operator+"-extra-as-string", &cm2)
	if cm1.Data["release"] != "kubesaga" {
		t.Errorf("extraObjects object: %v", cm1.Data)
	}

	// The API server accepts it all, and Pod Security "restricted" has nothing to say.
	out := applyDryRun(t, manifest)
	for _, want := range []string{"poddisruptionbudget.policy/kubesaga created", "configmap/kubesaga-extra-as-string created",
		"deployment.apps/kubesaga created", "pod/kubesaga-test-connection created"} {
		if !strings.Contains(out, want) {
			t.Errorf("server dry run did not report %q:\n%s", want, out)
		}
	}
}

func TestSecurityContextIsOverridable(t *testing.T) {
	manifest := renderWith(t, "default", `
podSecurityContext:
  runAsNonRoot: true
  runAsUser: 1000
  fsGroup: 2000
securityContext:
  runAsNonRoot: true
  runAsUser: 1000
  readOnlyRootFilesystem: true
  allowPrivilegeEscalation: false
  capabilities: {drop: [ALL]}
`)
	var d appsv1.Deployment
	object(t, manifest, "Deployment", &d)
	psc, sc := d.Spec.Template.Spec.SecurityContext, d.Spec.Template.Spec.Containers[0].SecurityContext
	if psc == nil || *psc.RunAsUser != 1000 || *psc.FSGroup != 2000 {
		t.Errorf("pod securityContext not overridden: %+v", psc)
	}
	if sc == nil || *sc.RunAsUser != 1000 {
		t.Errorf("container securityContext not overridden: %+v", sc)
	}
	// An override of one key keeps the restricted rest (Helm merges maps).
	var d2 appsv1.Deployment
	object(t, helmTemplate(t, operator, "default", "securityContext.runAsUser=1001"), "Deployment", &d2)
	sc2 := d2.Spec.Template.Spec.Containers[0].SecurityContext
	if *sc2.RunAsUser != 1001 || sc2.ReadOnlyRootFilesystem == nil || !*sc2.ReadOnlyRootFilesystem ||
		sc2.Capabilities == nil || !slices.Equal(sc2.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("securityContext.runAsUser=1001 lost the restricted defaults: %+v", sc2)
	}
}

// TestAggregatedRolesLetNamespaceUsersWorkWithOrders installs the chart and asks the API
// server (SubjectAccessReview, `kubectl auth can-i`) what a user bound in one namespace to
// each aggregated role may do. envtest runs no kube-controller-manager, so the aggregation
// into the built-in view/edit/admin roles is checked by its labels; the rules by the server.
func TestAggregatedRolesLetNamespaceUsersWorkWithOrders(t *testing.T) {
	manifest := helmTemplate(t, operator, "default")
	var view, edit rbacv1.ClusterRole
	named(t, manifest, "ClusterRole", operator+"-view", &view)
	named(t, manifest, "ClusterRole", operator+"-edit", &edit)
	for _, agg := range []string{"view", "edit", "admin"} {
		if view.Labels["rbac.authorization.k8s.io/aggregate-to-"+agg] != "true" {
			t.Errorf("%s lacks aggregate-to-%s", view.Name, agg)
		}
	}
	for _, agg := range []string{"edit", "admin"} {
		if edit.Labels["rbac.authorization.k8s.io/aggregate-to-"+agg] != "true" {
			t.Errorf("%s lacks aggregate-to-%s", edit.Name, agg)
		}
	}
	if _, ok := edit.Labels["rbac.authorization.k8s.io/aggregate-to-view"]; ok {
		t.Errorf("%s must not aggregate into view (it writes)", edit.Name)
	}
	if strings.Contains(helmTemplate(t, operator, "default", "rbac.aggregateClusterRoles=false"), operator+"-view") {
		t.Error("rbac.aggregateClusterRoles=false still renders the view ClusterRole")
	}

	const ns = "agg-roles"
	if _, _, err := kubectl(t, nil, "create", "namespace", ns); err != nil {
		t.Fatal(err)
	}
	// The two ClusterRoles under another name than TestInstall's release, so that they do not
	// collide; the CRD stays out of this shared API server (SubjectAccessReview needs none).
	renamed := helmTemplate(t, operator, "default", "fullnameOverride=agg-test")
	if _, _, err := kubectl(t, []byte(roleDocs(t, renamed, "agg-test-view", "agg-test-edit")), "apply", "-f", "-"); err != nil {
		t.Fatal(err)
	}
	for _, b := range [][2]string{{"viewer", "agg-test-view"}, {"editor", "agg-test-view"}, {"editor", "agg-test-edit"}} {
		if _, _, err := kubectl(t, nil, "-n", ns, "create", "rolebinding", b[0]+"-"+b[1], "--clusterrole="+b[1], "--user="+b[0]); err != nil {
			t.Fatal(err)
		}
	}
	// can asks the API server (a SubjectAccessReview, what `kubectl auth can-i` sends).
	can := func(user, verb, resource, namespace string) bool {
		res, sub, _ := strings.Cut(resource, "/")
		sar := fmt.Sprintf(`{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":%q,
"resourceAttributes":{"group":"saga.kubesaga.io","resource":%q,"subresource":%q,"verb":%q,"namespace":%q}}}`, user, res, sub, verb, namespace)
		out, _, err := kubectl(t, []byte(sar), "create", "-f", "-", "-o", "jsonpath={.status.allowed}")
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out) == "true"
	}
	for _, c := range []struct {
		user, verb, resource, ns string
		want                     bool
	}{
		{"viewer", "list", "orders", ns, true},
		{"viewer", "watch", "orders", ns, true},
		{"viewer", "create", "orders", ns, false},
		{"editor", "create", "orders", ns, true},
		{"editor", "delete", "orders", ns, true},
		{"editor", "patch", "orders/status", ns, false},  // status is the operator's
		{"editor", "create", "orders", "default", false}, // bound in one namespace only
	} {
		if got := can(c.user, c.verb, c.resource, c.ns); got != c.want {
			t.Errorf("may %s %s %s in %s: %v, want %v", c.user, c.verb, c.resource, c.ns, got, c.want)
		}
	}
}

// roleDocs returns the rendered ClusterRoles with the given names.
func roleDocs(t *testing.T, manifest string, names ...string) string {
	t.Helper()
	var out []string
	for _, d := range docs(t, manifest) {
		var m struct {
			Kind     string
			Metadata struct{ Name string }
		}
		if err := yaml.Unmarshal(d, &m); err != nil {
			t.Fatal(err)
		}
		if m.Kind == "ClusterRole" && slices.Contains(names, m.Metadata.Name) {
			out = append(out, string(d))
		}
	}
	return strings.Join(out, "\n---\n")
}

// TestHelmTestHook: `helm test` runs a Pod that fetches what the release serves, at the
// names and ports the charts render, and the participants' NetworkPolicies admit it.
func TestHelmTestHook(t *testing.T) {
	manifest := helmTemplate(t, operator, "kubesaga")
	var pod corev1.Pod
	named(t, manifest, "Pod", operator+"-test-connection", &pod)
	if pod.Annotations["helm.sh/hook"] != "test" {
		t.Fatalf("the test Pod is not a helm test hook: %v", pod.Annotations)
	}
	script := strings.Join(pod.Spec.Containers[0].Args, "\n")
	var svc corev1.Service
	object(t, manifest, "Service", &svc)
	wantURLs := []string{
		"http://" + svc.Name + ".kubesaga.svc:" + strconv.Itoa(int(svc.Spec.Ports[0].Port)) + "/metrics",
		"http://carts:8080/readyz", "http://stocks:8080/readyz", "http://sales:8080/readyz",
	}
	for _, u := range wantURLs {
		if !strings.Contains(script, "wget -q -T 10 -O /dev/null "+u+"\n") {
			t.Errorf("the helm test script does not fetch %s:\n%s", u, script)
		}
	}
	// The manager's Service (and PDB) must not select the test Pod.
	selects := true
	for k, v := range svc.Spec.Selector {
		selects = selects && pod.Labels[k] == v
	}
	if selects {
		t.Errorf("the metrics Service selector %v selects the test Pod %v", svc.Spec.Selector, pod.Labels)
	}

	// Each participant's NetworkPolicy has a peer whose podSelector the test Pod matches.
	for _, p := range participants {
		var np struct {
			Spec struct {
				Ingress []struct {
					From []struct {
						PodSelector *struct{ MatchLabels map[string]string }
					}
				}
			}
		}
		named(t, helmTemplate(t, p, "kubesaga"), "NetworkPolicy", p, &np)
		admitted := false
		for _, in := range np.Spec.Ingress {
			for _, from := range in.From {
				if from.PodSelector == nil {
					continue
				}
				match := true
				for k, v := range from.PodSelector.MatchLabels {
					match = match && pod.Labels[k] == v
				}
				admitted = admitted || match
			}
		}
		if !admitted {
			t.Errorf("the %s NetworkPolicy does not admit the helm test Pod (labels %v)", p, pod.Labels)
		}
	}
}

// TestMonitoringBundle: off by default; on, a ServiceMonitor that selects the metrics
// Service's port, a PodMonitor that selects the participant charts' pods and port, a
// PrometheusRule whose alerts link runbooks, and a dashboard ConfigMap for the Grafana
// sidecar, all accepted by an API server that serves the prometheus-operator kinds.
func TestMonitoringBundle(t *testing.T) {
	const ns = "monitoring"
	for _, kind := range []string{"ServiceMonitor", "PodMonitor", "PrometheusRule", "kubesaga-dashboard"} {
		if strings.Contains(helmTemplate(t, operator, ns), kind) {
			t.Errorf("%s is rendered by default; the monitoring bundle is off by default", kind)
		}
	}
	manifest := helmTemplate(t, operator, ns, "monitoring.serviceMonitor.enabled=true", "monitoring.podMonitor.enabled=true",
		"monitoring.prometheusRule.enabled=true", "monitoring.dashboard.enabled=true",
		"monitoring.serviceMonitor.labels.release=kube-prometheus-stack",
		"monitoring.prometheusRule.runbookBaseURL=https://runbooks.example.com/kubesaga/")

	var sm struct {
		Metadata struct{ Labels map[string]string }
		Spec     struct {
			Selector  struct{ MatchLabels map[string]string }
			Endpoints []struct{ Port, Path string }
		}
	}
	var svc corev1.Service
	named(t, manifest, "ServiceMonitor", operator, &sm)
	object(t, manifest, "Service", &svc)
	if sm.Metadata.Labels["release"] != "kube-prometheus-stack" {
		t.Errorf("monitoring.serviceMonitor.labels not applied: %v", sm.Metadata.Labels)
	}
	for k, v := range sm.Spec.Selector.MatchLabels {
		if svc.Labels[k] != v {
			t.Errorf("the ServiceMonitor selects %s=%s, which the metrics Service lacks", k, v)
		}
	}
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != svc.Spec.Ports[0].Name || sm.Spec.Endpoints[0].Path != "/metrics" {
		t.Errorf("ServiceMonitor endpoints %+v, Service port %q", sm.Spec.Endpoints, svc.Spec.Ports[0].Name)
	}

	var pm struct {
		Spec struct {
			Selector            struct{ MatchLabels map[string]string }
			PodMetricsEndpoints []struct{ Port, Path string }
		}
	}
	named(t, manifest, "PodMonitor", operator+"-participants", &pm)
	for _, p := range participants {
		var d appsv1.Deployment
		object(t, helmTemplate(t, p, ns), "Deployment", &d)
		for k, v := range pm.Spec.Selector.MatchLabels {
			if d.Spec.Template.Labels[k] != v {
				t.Errorf("the PodMonitor selects %s=%s, which the %s pods lack", k, v, p)
			}
		}
		if !slices.ContainsFunc(d.Spec.Template.Spec.Containers[0].Ports, func(cp corev1.ContainerPort) bool {
			return cp.Name == pm.Spec.PodMetricsEndpoints[0].Port
		}) {
			t.Errorf("the %s pods have no port named %q", p, pm.Spec.PodMetricsEndpoints[0].Port)
		}
	}

	var pr struct {
		Spec struct {
			Groups []struct {
				Rules []struct {
					Alert       string
					Annotations map[string]string
				}
			}
		}
	}
	named(t, manifest, "PrometheusRule", operator, &pr)
	alerts := 0
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			alerts++
			if want := "https://runbooks.example.com/kubesaga/" + r.Alert + ".md"; r.Annotations["runbook_url"] != want {
				t.Errorf("alert %s: runbook_url %q, want %q", r.Alert, r.Annotations["runbook_url"], want)
			}
			if _, err := os.Stat(filepath.Join(root, "docs", "runbooks", r.Alert+".md")); err != nil {
				t.Errorf("alert %s has no docs/runbooks/%s.md", r.Alert, r.Alert)
			}
		}
	}
	if alerts < 5 {
		t.Errorf("the PrometheusRule has %d alerts, want at least 5", alerts)
	}

	var cm corev1.ConfigMap
	named(t, manifest, "ConfigMap", operator+"-dashboard", &cm)
	if cm.Labels["grafana_dashboard"] != "1" {
		t.Errorf("the dashboard ConfigMap lacks the Grafana sidecar label: %v", cm.Labels)
	}
	var dash struct {
		Title  string
		Panels []any
	}
	if err := yaml.Unmarshal([]byte(cm.Data["kubesaga.json"]), &dash); err != nil || dash.Title != "kubesaga" || len(dash.Panels) == 0 {
		t.Errorf("the dashboard JSON does not decode (%v) or is empty: %q", err, dash.Title)
	}

	if _, _, err := kubectl(t, nil, "apply", "-f", filepath.Join(root, "test", "charts", "testdata", "monitoring-crds.yaml")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := kubectl(t, nil, "wait", "--for=condition=Established", "crd/servicemonitors.monitoring.coreos.com",
		"crd/podmonitors.monitoring.coreos.com", "crd/prometheusrules.monitoring.coreos.com"); err != nil {
		t.Fatal(err)
	}
	restrictedNamespace(t, ns)
	out := applyDryRun(t, manifest)
	for _, want := range []string{"servicemonitor.monitoring.coreos.com/kubesaga created", "podmonitor.monitoring.coreos.com/kubesaga-participants created",
		"prometheusrule.monitoring.coreos.com/kubesaga created", "configmap/kubesaga-dashboard created"} {
		if !strings.Contains(out, want) {
			t.Errorf("server dry run did not report %q:\n%s", want, out)
		}
	}
}

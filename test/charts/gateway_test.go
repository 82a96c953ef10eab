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
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/dev/controlplane"
	"github.com/kubesaga/kubesaga/internal/gateway"
)

// The gateway part of the operator chart (gateway.enabled): what it grants, that a real
// API server takes it, and that the gateway runs with exactly what it renders.

const gatewayToken = "chart-tests-gateway-token-0123456789"

// gatewayVariants renders the chart with the gateway on: plain, and with its token.
var gatewayVariants = [][]string{
	{"gateway.enabled=true"},
	{"gateway.enabled=true", "gateway.auth.token=" + gatewayToken, "gateway.replicaCount=2", "gateway.extraArgs[0]=--kube-api-qps=20"},
}

// gatewayObject returns the one rendered object of a kind that belongs to the gateway
// (component label gateway).
func gatewayObject(t *testing.T, manifest, kind string, out any) {
	t.Helper()
	found := 0
	for _, d := range docs(t, manifest) {
		var tm struct {
			Kind     string
			Metadata struct{ Labels map[string]string }
		}
		if err := yaml.Unmarshal(d, &tm); err != nil {
			t.Fatal(err)
		}
		if tm.Kind == kind && tm.Metadata.Labels["app.kubernetes.io/component"] == "gateway" {
			found++
			if err := yaml.UnmarshalStrict(d, out); err != nil {
				t.Fatalf("%s does not decode strictly: %v", kind, err)
			}
		}
	}
	if found != 1 {
		t.Fatalf("rendered %d gateway objects of kind %s, want 1", found, kind)
	}
}

func TestGatewayLintAndSchema(t *testing.T) {
	helm, chart := helmPath(t), filepath.Join(root, "charts", operator)
	for _, set := range gatewayVariants {
		args := []string{"lint", "--strict", chart}
		for _, s := range set {
			args = append(args, "--set", s)
		}
		mustRun(t, helm, args...)
	}
	for _, set := range []string{"gateway.maxWait=5", "gateway.defaultWait=soon", "gateway.noSuchKey=1", "gateway.replicaCount=-1",
		"gateway.extraArgs[0]=oops", "gateway.auth.secretKey=a/b", "gateway.service.port=0"} {
		out, stderr, err := run(t, nil, helm, "lint", "--strict", chart, "--set", "gateway.enabled=true", "--set", set)
		if err == nil {
			t.Errorf("helm lint --set %s passed; values.schema.json should refuse it", set)
			continue
		}
		if !strings.Contains(out+stderr, "schema") && !strings.Contains(out+stderr, "[ERROR] values.yaml: - at") {
			t.Errorf("helm lint --set %s failed, but not because of the schema:\n%s%s", set, out, stderr)
		}
	}
}

func TestGatewayIsOffByDefault(t *testing.T) {
	if m := helmTemplate(t, operator, "kubesaga"); strings.Contains(m, "component: gateway") {
		t.Error("the gateway renders without gateway.enabled=true")
	}
}

// TestGatewayRoleIsLeastPrivilege fails if the chart grants the gateway's ServiceAccount
// anything beyond internal/gateway.Rules() (create, get, list, watch on orders), or
// grants it outside the release namespace.
func TestGatewayRoleIsLeastPrivilege(t *testing.T) {
	const ns = "shop"
	manifest := helmTemplate(t, operator, ns, gatewayVariants[0]...)
	var role rbacv1.Role
	var binding rbacv1.RoleBinding
	var sa corev1.ServiceAccount
	gatewayObject(t, manifest, "Role", &role)
	gatewayObject(t, manifest, "RoleBinding", &binding)
	gatewayObject(t, manifest, "ServiceAccount", &sa)
	if role.Namespace != ns || binding.Namespace != ns || sa.Namespace != ns {
		t.Errorf("Role, RoleBinding and ServiceAccount in %q, %q, %q; want the release namespace %q", role.Namespace, binding.Namespace, sa.Namespace, ns)
	}
	for _, r := range role.Rules {
		if len(r.ResourceNames) > 0 || len(r.NonResourceURLs) > 0 {
			t.Errorf("unexpected rule %+v", r)
		}
	}
	got, want := ruleSet(role.Rules), ruleSet(gateway.Rules())
	for r := range got {
		if !want[r] {
			t.Errorf("the gateway's Role grants %v, which the gateway does not need", r)
		}
	}
	for r := range want {
		if !got[r] {
			t.Errorf("the gateway's Role lacks %v, which the gateway needs", r)
		}
	}
	if binding.RoleRef.Kind != "Role" || binding.RoleRef.Name != role.Name ||
		!slices.Equal(binding.Subjects, []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa.Name, Namespace: ns}}) {
		t.Errorf("RoleBinding %+v does not bind the Role to the gateway's ServiceAccount only", binding)
	}
	// Nothing cluster-wide names the gateway's ServiceAccount.
	for _, d := range docs(t, manifest) {
		var b rbacv1.ClusterRoleBinding
		if err := yaml.Unmarshal(d, &b); err == nil && b.Kind == "ClusterRoleBinding" {
			for _, s := range b.Subjects {
				if s.Name == sa.Name {
					t.Errorf("ClusterRoleBinding %s binds the gateway's ServiceAccount", b.Name)
				}
			}
		}
	}
	var d appsv1.Deployment
	gatewayObject(t, manifest, "Deployment", &d)
	if d.Spec.Template.Spec.ServiceAccountName != sa.Name {
		t.Errorf("the gateway runs as %q, not its ServiceAccount %q", d.Spec.Template.Spec.ServiceAccountName, sa.Name)
	}
}

func TestGatewayServerDryRun(t *testing.T) {
	const ns = "dry-run-gateway"
	restrictedNamespace(t, ns)
	for i, set := range gatewayVariants {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			// Only the gateway's objects: the others are TestServerDryRun's, and the
			// cluster-scoped ones may exist already (TestInstall), which kubectl warns about.
			var manifest strings.Builder
			for _, d := range docs(t, helmTemplate(t, operator, ns, set...)) {
				var m struct {
					Metadata struct{ Labels map[string]string }
				}
				if err := yaml.Unmarshal(d, &m); err != nil {
					t.Fatal(err)
				}
				if m.Metadata.Labels["app.kubernetes.io/component"] == "gateway" {
					manifest.WriteString("---\n")
					manifest.Write(d)
				}
			}
			out, stderr, err := kubectl(t, []byte(manifest.String()), "apply", "--dry-run=server", "-f", "-")
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(stderr, "PodSecurity") || strings.Contains(stderr, "Warning") {
				t.Errorf("the API server warns:\n%s", stderr)
			}
			for _, want := range []string{"deployment.apps/kubesaga-gateway", "service/kubesaga-gateway", "role.rbac.authorization.k8s.io/kubesaga-gateway"} {
				if !strings.Contains(out, want) {
					t.Errorf("%s not applied:\n%s", want, out)
				}
			}
		})
	}
}

// TestGatewayRunsAsRendered starts the gateway with exactly the rendered args (the
// token path mapped to a temporary file, the address to a free port) and the rendered
// Role, RoleBinding and ServiceAccount applied to an API server with the Order CRD,
// impersonating that ServiceAccount: it must answer its probes on the rendered paths,
// create and read Orders, and be refused everything else.
func TestGatewayRunsAsRendered(t *testing.T) {
	const ns = "shop"
	manifest := helmTemplate(t, operator, ns, gatewayVariants[1]...)
	var d appsv1.Deployment
	var sa corev1.ServiceAccount
	gatewayObject(t, manifest, "Deployment", &d)
	gatewayObject(t, manifest, "ServiceAccount", &sa)
	ctr := d.Spec.Template.Spec.Containers[0]
	if !slices.Equal(ctr.Command, []string{"/gateway"}) {
		t.Errorf("command is %q, want [/gateway] (the image's binary)", ctr.Command)
	}

	// An API server of its own, with the CRD: the shared one has none before TestInstall.
	gcp, err := controlplane.Start(controlplane.Options{Admin: "gateway-tests"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gcp.Stop() })
	cfg := gcp.Config
	scheme, err := gateway.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	admin, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for _, n := range []string{ns, "elsewhere"} {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("v1")
		u.SetKind("Namespace")
		u.SetName(n)
		if err := admin.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	for _, doc := range docs(t, manifest) {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &u.Object); err != nil {
			t.Fatal(err)
		}
		if u.GetLabels()["app.kubernetes.io/component"] != "gateway" {
			continue
		}
		switch u.GetKind() {
		case "ServiceAccount", "Role", "RoleBinding":
			if err := admin.Create(ctx, u); err != nil {
				t.Fatalf("create %s: %v", u.GetKind(), err)
			}
		}
	}
	asGateway := rest.CopyConfig(cfg)
	asGateway.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns + ":" + sa.Name,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}}

	// The rendered args, with the Secret's mount path mapped to a temporary file.
	tokenDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(tokenDir, "token"), []byte(gatewayToken), 0o600); err != nil {
		t.Fatal(err)
	}
	args := make([]string, 0, len(ctr.Args))
	for _, a := range ctr.Args {
		a = strings.Replace(a, "/var/run/kubesaga-gateway", tokenDir, 1)
		if strings.HasPrefix(a, "--addr=") {
			a = "--addr=127.0.0.1:0"
		}
		args = append(args, a)
	}
	gc, err := gateway.ParseConfig(args, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatalf("the gateway refuses the rendered args %q: %v", ctr.Args, err)
	}
	if gc.Namespace != ns || gc.TokenFile == "" {
		t.Errorf("namespace %q, token file %q: want the release namespace and the mounted token", gc.Namespace, gc.TokenFile)
	}
	addr := make(chan net.Addr, 1)
	done := make(chan error, 1)
	runCtx, stop := context.WithCancel(ctx)
	go func() {
		done <- gateway.Run(runCtx, gc, asGateway, slog.New(slog.DiscardHandler), func(a net.Addr) { addr <- a })
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a.String()
	case err := <-done:
		t.Fatalf("gateway.Run: %v", err)
	}
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("gateway.Run: %v", err)
		}
	})
	get := func(path string) int {
		resp, err := http.Get(base + path) //nolint:noctx // a test against a local server
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	for _, p := range []*corev1.Probe{ctr.ReadinessProbe, ctr.LivenessProbe} {
		if probePort(t, ctr, p) != 8080 {
			t.Errorf("probe %s is not on the gateway's port 8080", p.HTTPGet.Path)
		}
		deadline := time.Now().Add(30 * time.Second)
		for get(p.HTTPGet.Path) != http.StatusOK {
			if time.Now().After(deadline) {
				t.Fatalf("probe %s never answered 200", p.HTTPGet.Path)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// An order through the gateway, under the rendered Role: created, then read back.
	post := func(key string) int {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/orders?wait=0",
			strings.NewReader(`{"cartId":"3f2b6c1e-8d0a-4c5e-9f1b-2a7d6e4c8b90","storeId":101}`))
		req.Header.Set("Authorization", "Bearer "+gatewayToken)
		req.Header.Set(gateway.HeaderIdempotencyKey, key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	if s := post("chart-1"); s != http.StatusAccepted {
		t.Fatalf("POST under the rendered Role: %d, want 202", s)
	}
	if s := post("chart-1"); s != http.StatusAccepted {
		t.Fatalf("replay under the rendered Role: %d, want 202", s)
	}
	var o sagav1.Order
	if err := admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: gateway.OrderName("chart-1")}, &o); err != nil {
		t.Fatalf("the Order was not created: %v", err)
	}

	// Everything else is refused to that ServiceAccount.
	gw, err := client.New(asGateway, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	other := &sagav1.Order{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "elsewhere"}, Spec: o.Spec}
	for what, err := range map[string]error{
		"create in another namespace": gw.Create(ctx, other),
		"update":                      gw.Update(ctx, o.DeepCopy()),
		"delete":                      gw.Delete(ctx, o.DeepCopy()),
		"update status":               gw.Status().Update(ctx, o.DeepCopy()),
		"list cluster-wide":           gw.List(ctx, &sagav1.OrderList{}),
	} {
		if !apierrors.IsForbidden(err) {
			t.Errorf("%s: %v, want Forbidden", what, err)
		}
	}
}

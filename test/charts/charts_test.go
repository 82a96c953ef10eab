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
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/kubesaga/kubesaga/controllers"
	"github.com/kubesaga/kubesaga/internal/dev/binaries"
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

// ---------------------------------------------------------------------------------------
// Tools

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

// ---------------------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------------------
// a. helm lint, and the schema refusing bad values

func TestLint(t *testing.T) {
	helm := helmPath(t)
	for _, c := range allCharts {
		t.Run(c, func(t *testing.T) {
			mustRun(t, helm, "lint", "--strict", filepath.Join(root, "charts", c))
			bad := []string{"replicaCount=-1", "noSuchValue=1", "image.noSuchKey=x", "logFormat=xml", "resources.requests=3"}
			if c == operator {
				bad = append(bad, "saga.stepTimeout=5", "saga.maxAttempts=0", "participants.cartsURL=carts:8080",
					"controller.kubeAPIQPS=0", "extraArgs[0]=oops")
			} else {
				bad = append(bad, "replicaCount=2", "containerPort=0", "persistence.size=lots",
					"networkPolicy.operator.podLabels=null")
			}
			for _, set := range bad {
				out, stderr, err := run(t, nil, helm, "lint", "--strict", filepath.Join(root, "charts", c), "--set", set)
				if err == nil {
					t.Errorf("helm lint --set %s passed; values.schema.json should refuse it", set)
					continue
				}
				// helm reports schema violations as "values don't meet the specifications
				// of the schema(s)" or "[ERROR] values.yaml: - at '/key': ...".
				if !strings.Contains(out+stderr, "schema") && !strings.Contains(out+stderr, "[ERROR] values.yaml: - at") {
					t.Errorf("helm lint --set %s failed, but not because of the schema:\n%s%s", set, out, stderr)
				}
			}
		})
	}
}

// ---------------------------------------------------------------------------------------
// d. the chart's CRD is config/crd/bases; its RBAC is config/rbac/role.yaml

func TestCRDMatchesConfig(t *testing.T) {
	bases, err := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
	if err != nil || len(bases) == 0 {
		t.Fatalf("no CRDs in config/crd/bases (%v)", err)
	}
	chartCRDs, _ := filepath.Glob(filepath.Join(root, "charts", operator, "templates", "crds", "*.yaml"))
	if len(chartCRDs) != len(bases) {
		t.Fatalf("charts/kubesaga/templates/crds has %d files, config/crd/bases %d: run `make chart-crds`", len(chartCRDs), len(bases))
	}
	for _, base := range bases {
		t.Run(filepath.Base(base), func(t *testing.T) {
			show := "templates/crds/" + filepath.Base(base)
			rendered := mustRun(t, helmPath(t), "template", operator, filepath.Join(root, "charts", operator), "--show-only", show)
			var got, want map[string]any
			if err := yaml.Unmarshal(docs(t, rendered)[0], &got); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(base)
			if err != nil {
				t.Fatal(err)
			}
			if err := yaml.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			// The chart adds exactly one thing: the crds.keep annotation.
			ann := got["metadata"].(map[string]any)["annotations"].(map[string]any)
			if ann["helm.sh/resource-policy"] != "keep" {
				t.Errorf("the chart's CRD lacks helm.sh/resource-policy: keep (crds.keep defaults to true)")
			}
			delete(ann, "helm.sh/resource-policy")
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("charts/kubesaga/%s differs from %s: run `make chart-crds`", show, base)
			}
			// crds.install=false leaves it out.
			all := helmTemplate(t, operator, "default", "crds.install=false")
			if strings.Contains(all, "kind: CustomResourceDefinition") {
				t.Error("crds.install=false still renders the CRD")
			}
		})
	}
}

type rule struct{ group, resource, verb string }

func ruleSet(rules []rbacv1.PolicyRule) map[rule]bool {
	set := map[rule]bool{}
	for _, r := range rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					set[rule{g, res, v}] = true
				}
			}
		}
	}
	return set
}

func TestRBACIsTheGeneratedRole(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var generated rbacv1.ClusterRole
	if err := yaml.Unmarshal(b, &generated); err != nil {
		t.Fatal(err)
	}
	manifest := helmTemplate(t, operator, "kubesaga")
	var cr rbacv1.ClusterRole
	var role rbacv1.Role
	object(t, manifest, "ClusterRole", &cr)
	object(t, manifest, "Role", &role)
	for _, r := range role.Rules {
		if !slices.Equal(r.APIGroups, []string{"coordination.k8s.io"}) {
			t.Errorf("the namespaced Role should hold only the leader election Lease, has %v", r)
		}
	}
	for _, r := range cr.Rules {
		if slices.Contains(r.Resources, "leases") {
			t.Errorf("leases belong in the namespaced Role, not the ClusterRole")
		}
	}
	got := ruleSet(append(cr.Rules, role.Rules...))
	want := ruleSet(generated.Rules)
	if !reflect.DeepEqual(got, want) {
		for r := range got {
			if !want[r] {
				t.Errorf("the chart grants %v, which config/rbac/role.yaml does not", r)
			}
		}
		for r := range want {
			if !got[r] {
				t.Errorf("the chart lacks %v, which config/rbac/role.yaml grants", r)
			}
		}
	}
}

// ---------------------------------------------------------------------------------------
// b. rendered charts are accepted by a real API server, and pass Pod Security "restricted"

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

// ---------------------------------------------------------------------------------------
// c. helm install of all four

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
		args := []string{"install", c, filepath.Join(root, "charts", c), "--kubeconfig", kc, "--namespace", ns}
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

// ---------------------------------------------------------------------------------------
// e. each participant binary accepts exactly what its Deployment passes

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// participantBinaries builds the three services once (go build caches the work).
func participantBinaries(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "kubesaga-chart-bins-"); buildErr == nil {
			buildErr = binaries.Build(context.Background(), binDir, binaries.Participants...)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func probePort(t *testing.T, ctr corev1.Container, p *corev1.Probe) int {
	t.Helper()
	if p == nil || p.HTTPGet == nil {
		t.Fatalf("container %s: probe is not an httpGet probe", ctr.Name)
	}
	if p.HTTPGet.Port.StrVal == "" {
		return p.HTTPGet.Port.IntValue()
	}
	for _, cp := range ctr.Ports {
		if cp.Name == p.HTTPGet.Port.StrVal {
			return int(cp.ContainerPort)
		}
	}
	t.Fatalf("probe port %q names no container port", p.HTTPGet.Port.StrVal)
	return 0
}

func TestParticipantBinaryAcceptsRenderedDeployment(t *testing.T) {
	for _, svc := range participants {
		t.Run(svc, func(t *testing.T) {
			bins := participantBinaries(t)
			// Only the port is chosen by the test (through the chart's own value), so that
			// the three services and other tests do not collide on 8080.
			port := freePort(t)
			var d appsv1.Deployment
			object(t, helmTemplate(t, svc, "default", "containerPort="+strconv.Itoa(port), "auth.token="+testToken), "Deployment", &d)
			pod := d.Spec.Template.Spec
			if len(pod.Containers) != 1 {
				t.Fatalf("want one container, got %d", len(pod.Containers))
			}
			ctr := pod.Containers[0]

			// Volume mounts are the one thing a process outside the pod cannot have: each
			// mountPath (/data, /tmp, /var/run/kubesaga) is rewritten to a temporary folder;
			// the Secret's token file is written there. Nothing else is changed.
			mounts := map[string]string{}
			for _, m := range ctr.VolumeMounts {
				dir := filepath.Join(t.TempDir(), m.Name)
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				for _, v := range pod.Volumes {
					if v.Name == m.Name && v.Secret != nil {
						for _, it := range v.Secret.Items {
							if err := os.WriteFile(filepath.Join(dir, it.Path), []byte(testToken+"\n"), 0o600); err != nil {
								t.Fatal(err)
							}
						}
					}
				}
				mounts[m.MountPath] = dir
			}
			rewrite := func(s string) string {
				for from, to := range mounts {
					if i := strings.Index(s, from+"/"); i >= 0 {
						return s[:i] + to + s[i+len(from):]
					}
					if strings.HasSuffix(s, "="+from) || s == from {
						return strings.TrimSuffix(s, from) + to
					}
				}
				return s
			}
			if len(ctr.Command) != 1 || ctr.Command[0] != "/"+svc {
				t.Fatalf("command is %q, want the image's binary [/%s]", ctr.Command, svc)
			}
			args := make([]string, len(ctr.Args))
			for i, a := range ctr.Args {
				args[i] = rewrite(a)
			}
			env := make([]string, 0, len(ctr.Env))
			for _, e := range ctr.Env {
				if e.ValueFrom != nil {
					t.Fatalf("env %s comes from %v: extend the test to resolve it", e.Name, e.ValueFrom)
				}
				env = append(env, e.Name+"="+rewrite(e.Value))
			}
			ctx, cancel := context.WithCancel(context.Background())
			cmd := exec.CommandContext(ctx, filepath.Join(bins, filepath.Base(ctr.Command[0])), args...)
			cmd.Env = env // exactly the rendered environment
			var logs bytes.Buffer
			cmd.Stdout, cmd.Stderr = &logs, &logs
			cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
			cmd.WaitDelay = 10 * time.Second
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// exited is closed when the process ends; waitErr is then its exit status.
			exited := make(chan struct{})
			var waitErr error
			go func() { waitErr = cmd.Wait(); close(exited) }()
			t.Cleanup(func() {
				cancel()
				<-exited
				if t.Failed() {
					t.Logf("%s output:\n%s", svc, logs.String())
				}
			})

			probes := map[string]*corev1.Probe{"readiness": ctr.ReadinessProbe, "liveness": ctr.LivenessProbe}
			for _, which := range []string{"readiness", "liveness"} {
				p := probes[which]
				pp := probePort(t, ctr, p)
				if pp != port {
					t.Errorf("%s probe port %d is not the chart's containerPort %d", which, pp, port)
				}
				url := fmt.Sprintf("http://127.0.0.1:%d%s", pp, p.HTTPGet.Path)
				deadline := time.Now().Add(30 * time.Second)
				for {
					select {
					case <-exited:
						t.Fatalf("%s exited before answering %s: %v", svc, url, waitErr)
					default:
					}
					resp, err := http.Get(url)
					if err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						_ = resp.Body.Close()
						if resp.StatusCode == http.StatusOK {
							t.Logf("%s probe GET %s: 200", which, url)
							break
						}
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
					if time.Now().After(deadline) {
						t.Fatalf("%s probe GET %s: %v", which, url, err)
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
			// The rendered --token-file is in force: the API refuses a call without the token
			// and accepts it with the token from the Secret's volume.
			for _, tc := range []struct {
				auth string
				want func(int) bool
			}{
				{"", func(c int) bool { return c == http.StatusUnauthorized }},
				{"Bearer " + testToken, func(c int) bool { return c != http.StatusUnauthorized && c < 500 }},
			} {
				req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/api/events?correlationId=x", port), nil)
				if err != nil {
					t.Fatal(err)
				}
				if tc.auth != "" {
					req.Header.Set("Authorization", tc.auth)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_ = resp.Body.Close()
				if !tc.want(resp.StatusCode) {
					t.Errorf("GET /api/events with Authorization %q: %d", strings.Fields(tc.auth + " -")[0], resp.StatusCode)
				}
			}
			// The database is where the chart put it: on the /data volume.
			if _, err := os.Stat(filepath.Join(mounts["/data"], svc+".db")); err != nil {
				t.Errorf("no database on the /data volume: %v", err)
			}
		})
	}
}

// ---------------------------------------------------------------------------------------
// f. the manager accepts every rendered argument

func TestManagerAcceptsRenderedArgs(t *testing.T) {
	for i, set := range variants[operator] {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			var d appsv1.Deployment
			object(t, helmTemplate(t, operator, "kubesaga", set...), "Deployment", &d)
			ctr := d.Spec.Template.Spec.Containers[0]
			if !slices.Equal(ctr.Command, []string{"/manager"}) {
				t.Errorf("command is %q, want [/manager] (the image's binary)", ctr.Command)
			}
			var o controllers.ManagerOptions
			fs := flag.NewFlagSet("manager", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			o.BindFlags(fs)
			if err := fs.Parse(ctr.Args); err != nil {
				t.Fatalf("the manager refuses the rendered args %q: %v", ctr.Args, err)
			}
			if fs.NArg() != 0 {
				t.Fatalf("the manager would ignore %q", fs.Args())
			}
			if err := o.Validate(); err != nil {
				t.Fatalf("the manager refuses the rendered settings: %v", err)
			}
			if !o.LeaderElect || o.LeaderElectionNamespace != "kubesaga" {
				t.Errorf("leader election: %v in %q, want on in the release namespace", o.LeaderElect, o.LeaderElectionNamespace)
			}
			if o.ProbeAddr != ":8081" || o.MetricsAddr != ":8080" {
				t.Errorf("probe/metrics addresses %q/%q, want :8081/:8080", o.ProbeAddr, o.MetricsAddr)
			}
			for _, p := range []*corev1.Probe{ctr.LivenessProbe, ctr.ReadinessProbe} {
				if probePort(t, ctr, p) != 8081 {
					t.Errorf("probe %s is not on the probe port 8081", p.HTTPGet.Path)
				}
			}
			if o.CartsURL != "http://carts:8080" {
				t.Errorf("carts URL %q", o.CartsURL)
			}
			hasToken := slices.Contains(set, "auth.token="+testToken)
			if hasToken != (o.TokenFile == "/var/run/kubesaga/token") {
				t.Errorf("token file %q with auth.token set=%v", o.TokenFile, hasToken)
			}
		})
	}
}

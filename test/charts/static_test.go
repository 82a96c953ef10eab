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
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

// a. helm lint, and the schema refusing bad values.
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

// d. the chart's CRD is config/crd/bases; its RBAC is config/rbac/role.yaml.
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
	named(t, manifest, "ClusterRole", operator+"-manager", &cr) // the others are the aggregated view/edit roles
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

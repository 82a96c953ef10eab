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

package controllers_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

// TestGeneratedRoleIsLeastPrivilege reads the ClusterRole that controller-gen generates
// from the RBAC markers and fails if it grants anything beyond what the reconciler uses.
func TestGeneratedRoleIsLeastPrivilege(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.Unmarshal(raw, &role); err != nil {
		t.Fatal(err)
	}
	allowed := map[string][]string{
		// Finalizers and annotations are patched; the status is updated at its resourceVersion.
		"saga.kubesaga.io/orders":            {"get", "list", "watch", "patch"},
		"saga.kubesaga.io/orders/status":     {"get", "update"},
		"saga.kubesaga.io/orders/finalizers": {"update"},
		"events.k8s.io/events":               {"create", "patch"},
		// Sagas: the same writes as Orders; templates and participants are only read, and
		// Secrets only by name (get, never list or watch): the operator reads the ones that
		// Participants, which only a cluster admin writes, name.
		"saga.kubesaga.io/sagas":                {"get", "list", "watch", "patch"},
		"saga.kubesaga.io/sagas/status":         {"get", "patch"},
		"saga.kubesaga.io/sagas/finalizers":     {"update"},
		"saga.kubesaga.io/sagatemplates":        {"get", "list", "watch"},
		"saga.kubesaga.io/sagatemplates/status": {"get", "patch"},
		"saga.kubesaga.io/participants":         {"get", "list", "watch"},
		"/secrets":                              {"get"},
		"coordination.k8s.io/leases":            {"get", "list", "watch", "create", "update", "patch", "delete"},
	}
	seen := map[string]bool{}
	for _, rule := range role.Rules {
		if len(rule.NonResourceURLs) > 0 || len(rule.ResourceNames) > 0 {
			t.Errorf("unexpected rule %+v", rule)
		}
		for _, g := range rule.APIGroups {
			for _, r := range rule.Resources {
				key := g + "/" + r
				verbs, ok := allowed[key]
				if !ok {
					t.Errorf("the role grants %s, which the operator does not need", key)
					continue
				}
				seen[key] = true
				for _, v := range rule.Verbs {
					if !slices.Contains(verbs, v) {
						t.Errorf("the role grants %s on %s, which the operator does not need", v, key)
					}
				}
			}
		}
	}
	for key := range allowed {
		if !seen[key] {
			t.Errorf("the role lacks %s, which the reconciler uses", key)
		}
	}
}

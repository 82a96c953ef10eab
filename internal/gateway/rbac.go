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

package gateway

import (
	rbacv1 "k8s.io/api/rbac/v1"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
)

// Rules are the only permissions the gateway needs, granted by a Role in its own
// namespace (charts/kubesaga's gateway Role; test/charts fails if it grants more):
//   - create: POST creates the key's Order;
//   - get: read an Order the watch has not delivered yet (created an instant ago,
//     maybe by another replica, when the create answered AlreadyExists);
//   - list, watch: the one informer on the namespace's Orders that serves reads and
//     wakes waiting requests; it lists once at start and again whenever its watch
//     expires, so that no change is missed.
//
// Never update, patch or delete: the gateway does not change an Order once made.
func Rules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{{
		APIGroups: []string{sagav1.GroupVersion.Group},
		Resources: []string{"orders"},
		Verbs:     []string{"create", "get", "list", "watch"},
	}}
}

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

package openapitest

import (
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kubesaga/kubesaga/services/httpapi"
)

func TestResolves(t *testing.T) {
	var root any
	if err := yaml.Unmarshal([]byte("components:\n  schemas:\n    A: {type: string}\n"), &root); err != nil {
		t.Fatal(err)
	}
	if !resolves(root, "#/components/schemas/A") {
		t.Error("existing ref does not resolve")
	}
	for _, ref := range []string{"#/components/schemas/B", "#/components/schemas/A/type/x", "other.yaml#/A"} {
		if resolves(root, ref) {
			t.Errorf("%q resolves", ref)
		}
	}
}

func TestSamplePathAndDocumentedOperation(t *testing.T) {
	for in, want := range map[string]string{
		"/api/stocks/{storeId}/{productId}": "/api/stocks/1/1",
		"/api/sales/{id}":                   "/api/sales/00000000-0000-4000-8000-000000000000",
		"/api/orders/{key}":                 "/api/orders/sample",
		"/api/orders":                       "/api/orders",
	} {
		if got := SamplePath(in); got != want {
			t.Errorf("SamplePath(%q) = %q, want %q", in, got, want)
		}
	}
	rt := httpapi.Route{Pattern: "POST /api/orchestrator/{$}"}
	if got := DocumentedOperation(rt); got != "POST /api/orchestrator/" {
		t.Errorf("DocumentedOperation = %q", got)
	}
}

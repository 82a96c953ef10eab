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

// Package openapitest checks an OpenAPI 3 document against the route table a
// handler is built from (httpapi.Route), for the participant services and the
// gateway alike, so that a documented operation cannot drift from a served one.
package openapitest

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kubesaga/kubesaga/services/httpapi"
)

// Doer sends a request without a body to the live handler and returns the
// status and body of the answer.
type Doer func(method, path string) (status int, body []byte)

// Check compares the operations of an OpenAPI 3 document (YAML or JSON) with a
// route table, both ways, checks that every local $ref resolves, and asks the live
// handler (through do) to serve every documented operation (any answer but "no
// route" counts). A pattern's trailing "{$}" (exact match) is not part of its
// documented path.
func Check(t *testing.T, docFile string, routes []httpapi.Route, do Doer) {
	t.Helper()
	raw, err := os.ReadFile(docFile) //nolint:gosec // a file of the repository
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parse %s: %v", docFile, err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("%s: openapi = %q, want 3.x", docFile, doc.OpenAPI)
	}
	checkRefs(t, raw)
	documented := map[string]bool{}
	methods := map[string]bool{"get": true, "put": true, "post": true, "delete": true, "patch": true, "head": true, "options": true}
	for path, item := range doc.Paths {
		for m, rawOp := range item {
			if !methods[m] {
				continue // "parameters", "summary", ...
			}
			var op map[string]any
			if err := json.Unmarshal(rawOp, &op); err != nil {
				t.Fatalf("%s %s: %v", m, path, err)
			}
			if _, ok := op["responses"]; !ok {
				t.Errorf("%s %s: no responses documented", strings.ToUpper(m), path)
			}
			documented[strings.ToUpper(m)+" "+path] = true
		}
	}
	served := map[string]bool{}
	for _, rt := range routes {
		op := DocumentedOperation(rt)
		served[op] = true
		if !documented[op] {
			t.Errorf("route %q is served but not in %s", rt.Pattern, filepath.Base(docFile))
		}
	}
	for op := range documented {
		if !served[op] {
			t.Errorf("operation %q is documented but not in the route table", op)
			continue
		}
		method, path, _ := strings.Cut(op, " ")
		status, body := do(method, SamplePath(path))
		if status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
			var p httpapi.Problem
			if json.Unmarshal(body, &p) == nil && strings.Contains(p.Detail, "no route") {
				t.Errorf("operation %q is documented but the handler has no route for it", op)
			}
		}
	}
}

// DocumentedOperation is the "METHOD /path" under which a route is documented.
func DocumentedOperation(rt httpapi.Route) string {
	return rt.Method() + " " + strings.TrimSuffix(rt.Path(), "{$}")
}

// SamplePath fills path parameters with valid values: ids of stores and products
// are integers, {id} is a UUID, any other parameter a plain word.
func SamplePath(p string) string {
	p = strings.NewReplacer("{storeId}", "1", "{productId}", "1", "{id}", "00000000-0000-4000-8000-000000000000").Replace(p)
	for {
		open := strings.IndexByte(p, '{')
		end := strings.IndexByte(p, '}')
		if open < 0 || end < open {
			return p
		}
		p = p[:open] + "sample" + p[end+1:]
	}
}

// checkRefs fails the test for every local $ref that points nowhere.
func checkRefs(t *testing.T, raw []byte) {
	t.Helper()
	var root any
	if err := yaml.Unmarshal(raw, &root); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				if ref, ok := child.(string); ok && k == "$ref" {
					if !resolves(root, ref) {
						t.Errorf("$ref %q does not resolve", ref)
					}
				}
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(root)
}

func resolves(root any, ref string) bool {
	if !strings.HasPrefix(ref, "#/") {
		return false
	}
	cur := root
	for _, part := range strings.Split(ref[2:], "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

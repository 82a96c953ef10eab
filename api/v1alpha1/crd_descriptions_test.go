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

package v1alpha1_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestEveryCRDFieldIsDescribed walks every property of every CRD schema that
// controller-gen generated (config/crd/bases) and fails, naming the field's path, when
// its description is empty: `kubectl explain` shows these descriptions, and a field
// without one tells a user nothing. The fix is a doc comment on the Go field (or type),
// then `make manifests`.
func TestEveryCRDFieldIsDescribed(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "config", "crd", "bases", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no CRD under config/crd/bases: run `make manifests`")
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var crd struct {
			Spec struct {
				Names struct {
					Singular string `json:"singular"`
				} `json:"names"`
				Versions []struct {
					Name   string `json:"name"`
					Schema struct {
						OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
					} `json:"schema"`
				} `json:"versions"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal(raw, &crd); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(crd.Spec.Versions) == 0 {
			t.Errorf("%s: no version", f)
		}
		for _, v := range crd.Spec.Versions {
			root := v.Schema.OpenAPIV3Schema
			if root == nil {
				t.Errorf("%s %s: no openAPIV3Schema", f, v.Name)
				continue
			}
			fields := 0
			for _, path := range undescribed(crd.Spec.Names.Singular, root, &fields) {
				t.Errorf("%s (%s): %s has no description (add a doc comment to the Go field, then `make manifests`)",
					filepath.Base(f), v.Name, path)
			}
			if fields < 5 {
				t.Errorf("%s (%s): walked only %d fields: is the schema read right?", filepath.Base(f), v.Name, fields)
			}
		}
	}
}

// undescribed returns the paths, in kubectl explain's notation (saga.spec.input), of the
// schema's properties without a description; fields counts the properties walked.
// metadata at the root is left out: the API server describes ObjectMeta itself.
func undescribed(path string, s map[string]any, fields *int) []string {
	var out []string
	if d, _ := s["description"].(string); strings.TrimSpace(d) == "" {
		out = append(out, path)
	}
	return append(out, children(path, s, fields)...)
}

// children walks the properties of a schema, and those of its array items or map values,
// whose own description kubectl explain does not show (it shows the holding field's).
func children(path string, s map[string]any, fields *int) []string {
	var out []string
	props, _ := s["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if !strings.Contains(path, ".") && n == "metadata" {
			continue
		}
		*fields++
		if sub, ok := props[n].(map[string]any); ok {
			out = append(out, undescribed(path+"."+n, sub, fields)...)
		}
	}
	for _, key := range []string{"items", "additionalProperties"} {
		if sub, ok := s[key].(map[string]any); ok {
			out = append(out, children(path, sub, fields)...)
		}
	}
	return out
}

// The walker finds what it must: a missing description at any depth, through arrays and
// maps, and the root metadata is the only exception.
func TestUndescribedNamesEveryMissingField(t *testing.T) {
	var schema map[string]any
	if err := yaml.Unmarshal([]byte(`
description: a kind
properties:
  metadata: {type: object}
  spec:
    description: the spec
    properties:
      steps:
        description: the steps
        type: array
        items:
          type: object
          properties:
            name: {type: string}
            do:
              description: the call
              properties:
                path: {type: string, description: "  "}
      outputs:
        description: outputs by name
        type: object
        additionalProperties:
          type: object
          properties:
            value: {type: string}
  status:
    type: object
`), &schema); err != nil {
		t.Fatal(err)
	}
	fields := 0
	got := undescribed("thing", schema, &fields)
	want := []string{"thing.spec.outputs.value", "thing.spec.steps.do.path", "thing.spec.steps.name", "thing.status"}
	if !slices.Equal(got, want) {
		t.Errorf("undescribed = %v, want %v", got, want)
	}
	if fields != 8 { // spec, steps, name, do, path, outputs, value, status
		t.Errorf("walked %d fields, want 8", fields)
	}
}

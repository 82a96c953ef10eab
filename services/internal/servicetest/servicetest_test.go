package servicetest

import (
	"testing"

	"sigs.k8s.io/yaml"
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

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

package saga

import (
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	if err := orderDef().Validate(); err != nil {
		t.Fatalf("order saga: %v", err)
	}
	edit := func(f func(d *Definition)) Definition { d := orderDef(); f(&d); return d }
	tests := []struct {
		name string
		def  Definition
		want string
	}{
		{"no steps", Definition{Policy: orderDef().Policy}, "no steps"},
		{"duplicate name", edit(func(d *Definition) { d.Steps[1].Name = "LockCart" }), `name "LockCart" already used by step 0`},
		{"empty name", edit(func(d *Definition) { d.Steps[0].Name = "" }), "step 0 has no name"},
		{"no pivot", edit(func(d *Definition) { d.Steps[2].Kind = Compensatable }), "no pivot"},
		{"two pivots", edit(func(d *Definition) { d.Steps[1].Kind = Pivot }), "second pivot"},
		{"compensatable after the pivot", edit(func(d *Definition) { d.Steps[3].Kind = Compensatable; d.Steps[3].Undo = "X" }), "compensatable step after the pivot"},
		{"retriable before the pivot", edit(func(d *Definition) { d.Steps[1].Kind = Retriable }), "retriable step before the pivot"},
		{"compensatable without undo", edit(func(d *Definition) { d.Steps[0].Undo = "" }), "compensatable step without Undo"},
		{"unknown kind", edit(func(d *Definition) { d.Steps[0].Kind = "Maybe" }), `unknown kind "Maybe"`},
		{"max attempts", edit(func(d *Definition) { d.Policy.MaxAttempts = 0 }), "MaxAttempts must be positive"},
		{"compensation attempts", edit(func(d *Definition) { d.Policy.CompensationMaxAttempts = -1 }), "CompensationMaxAttempts must be positive"},
		{"backoff base", edit(func(d *Definition) { d.Policy.BackoffBase = 0 }), "BackoffBase must be positive"},
		{"backoff max", edit(func(d *Definition) { d.Policy.BackoffMax = time.Millisecond }), "BackoffMax (1ms) must be at least BackoffBase (1s)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.def.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want it to mention %q", err, tc.want)
			}
		})
	}
	// Every problem is reported, not just the first.
	err := edit(func(d *Definition) { d.Steps[0].Undo = ""; d.Policy.MaxAttempts = 0 }).Validate()
	if err == nil || !strings.Contains(err.Error(), "Undo") || !strings.Contains(err.Error(), "MaxAttempts") {
		t.Fatalf("joined errors: %v", err)
	}
}

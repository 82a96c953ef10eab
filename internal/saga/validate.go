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
	"errors"
	"fmt"
)

// Validate checks a definition: at least one step; non-empty, unique step names; known
// kinds; exactly one pivot, with every compensatable step before it and every retriable
// step after it; an Undo on every compensatable step (the pivot's and retriable steps'
// Undo are optional: used only on abort or an uncertain outcome); positive attempt limits
// and backoff, with BackoffMax ≥ BackoffBase. All problems are reported, joined.
func (d Definition) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(d.Steps) == 0 {
		bad("saga: definition has no steps")
	}
	seen := make(map[string]int, len(d.Steps))
	pivot := -1
	for i, s := range d.Steps {
		if s.Name == "" {
			bad("saga: step %d has no name", i)
		} else if j, dup := seen[s.Name]; dup {
			bad("saga: step %d: name %q already used by step %d", i, s.Name, j)
		} else {
			seen[s.Name] = i
		}
		if s.Probe != "" && s.Kind != Pivot {
			bad("saga: step %d %q: only the pivot may have a Probe", i, s.Name)
		}
		switch s.Kind {
		case Pivot:
			if pivot >= 0 {
				bad("saga: step %d %q: second pivot (step %d is the pivot)", i, s.Name, pivot)
			} else {
				pivot = i
			}
		case Compensatable:
			if pivot >= 0 {
				bad("saga: step %d %q: compensatable step after the pivot", i, s.Name)
			}
			if s.Undo == "" {
				bad("saga: step %d %q: compensatable step without Undo", i, s.Name)
			}
		case Retriable:
			if pivot < 0 {
				bad("saga: step %d %q: retriable step before the pivot", i, s.Name)
			}
		default:
			bad("saga: step %d %q: unknown kind %q", i, s.Name, s.Kind)
		}
	}
	if len(d.Steps) > 0 && pivot < 0 {
		bad("saga: definition has no pivot")
	}
	p := d.Policy
	if p.MaxAttempts < 1 {
		bad("saga: MaxAttempts must be positive, got %d", p.MaxAttempts)
	}
	if p.CompensationMaxAttempts < 1 {
		bad("saga: CompensationMaxAttempts must be positive, got %d", p.CompensationMaxAttempts)
	}
	if p.BackoffBase <= 0 {
		bad("saga: BackoffBase must be positive, got %v", p.BackoffBase)
	}
	if p.BackoffMax < p.BackoffBase {
		bad("saga: BackoffMax (%v) must be at least BackoffBase (%v)", p.BackoffMax, p.BackoffBase)
	}
	return errors.Join(errs...)
}

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

package sagacel

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
)

// MaxInput bounds a Saga's spec.input.
const MaxInput = 16 << 10

// Input decodes a Saga's spec.input and checks it against the template's schema (nil:
// any object). Every problem is reported, joined, each naming the field.
func Input(schema *sagav1.InputSchema, raw []byte) (map[string]any, error) {
	if len(raw) > MaxInput {
		return nil, fmt.Errorf("spec.input: %d bytes, over the %d-byte limit", len(raw), MaxInput)
	}
	v, err := DecodeJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("spec.input: not JSON: %w", err)
	}
	if v == nil {
		v = map[string]any{}
	}
	in, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("spec.input: must be a JSON object, got %s", jsonType(v))
	}
	if schema == nil {
		return in, nil
	}
	var errs []error
	for _, name := range schema.Required {
		if _, ok := in[name]; !ok {
			errs = append(errs, fmt.Errorf("spec.input.%s: required", name))
		}
	}
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p, ok := schema.Properties[k]
		if !ok {
			if !schema.AdditionalProperties {
				errs = append(errs, fmt.Errorf("spec.input.%s: unknown field (the template's inputSchema does not list it)", k))
			}
			continue
		}
		if err := checkProperty("spec.input."+k, p, in[k]); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return in, nil
}

func checkProperty(field string, p sagav1.InputProperty, v any) error {
	if got := jsonType(v); got != p.Type && (p.Type != "number" || got != "integer") {
		return fmt.Errorf("%s: must be of type %s, got %s", field, p.Type, got)
	}
	switch x := v.(type) {
	case string:
		return checkString(field, p, x)
	case int64:
		return checkNumber(field, p, float64(x))
	case float64:
		return checkNumber(field, p, x)
	case []any:
		if p.MinItems != nil && int64(len(x)) < *p.MinItems {
			return fmt.Errorf("%s: must have at least %d items, has %d", field, *p.MinItems, len(x))
		}
		if p.MaxItems != nil && int64(len(x)) > *p.MaxItems {
			return fmt.Errorf("%s: must have at most %d items, has %d", field, *p.MaxItems, len(x))
		}
	}
	return nil
}

func checkString(field string, p sagav1.InputProperty, s string) error {
	n := int64(len([]rune(s)))
	switch {
	case p.MinLength != nil && n < *p.MinLength:
		return fmt.Errorf("%s: must be at least %d characters long", field, *p.MinLength)
	case p.MaxLength != nil && n > *p.MaxLength:
		return fmt.Errorf("%s: must be at most %d characters long", field, *p.MaxLength)
	case len(p.Enum) > 0 && !slices.Contains(p.Enum, s):
		return fmt.Errorf("%s: must be one of %q", field, p.Enum)
	}
	switch p.Format {
	case "uuid":
		if _, err := uuid.Parse(s); err != nil || len(s) != 36 {
			return fmt.Errorf("%s: must be a UUID such as 123e4567-e89b-12d3-a456-426614174000", field)
		}
	case "date-time":
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			return fmt.Errorf("%s: must be an RFC 3339 date-time such as 2026-01-02T15:04:05Z", field)
		}
	}
	if p.Pattern != "" {
		re, err := regexp.Compile(p.Pattern)
		if err != nil {
			return fmt.Errorf("%s: the template's pattern %q does not compile: %w", field, p.Pattern, err)
		}
		if !re.MatchString(s) {
			return fmt.Errorf("%s: must match the pattern %q", field, p.Pattern)
		}
	}
	return nil
}

func checkNumber(field string, p sagav1.InputProperty, f float64) error {
	if p.Minimum != nil && f < float64(*p.Minimum) {
		return fmt.Errorf("%s: must be at least %d", field, *p.Minimum)
	}
	if p.Maximum != nil && f > float64(*p.Maximum) {
		return fmt.Errorf("%s: must be at most %d", field, *p.Maximum)
	}
	return nil
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case int64:
		return "integer"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return fmt.Sprintf("%T", v)
}

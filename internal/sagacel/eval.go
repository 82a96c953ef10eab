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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
)

// Vars are what expressions read.
type Vars struct {
	// Input is the Saga's spec.input, decoded by DecodeJSON.
	Input map[string]any
	// UID, Name and Namespace of the Saga (saga.uid, saga.name, saga.namespace).
	UID, Name, Namespace string
	// Responses are the kept responses of earlier steps, by step name, decoded by DecodeJSON.
	Responses map[string]any
}

func (v Vars) activation(response any) map[string]any {
	steps := make(map[string]any, len(v.Responses))
	for name, r := range v.Responses {
		steps[name] = map[string]any{"response": r}
	}
	input := v.Input
	if input == nil {
		input = map[string]any{}
	}
	return map[string]any{
		VarInput:    input,
		VarSaga:     map[string]string{"uid": v.UID, "name": v.Name, "namespace": v.Namespace},
		VarSteps:    steps,
		VarResponse: response,
	}
}

// Request is one participant call, ready to send.
type Request struct {
	Name        string // the call's name: the step's, or its undo's
	Participant string
	Method      string
	Path        string // starts with "/"; the caller joins it to the participant's URL
	Body        []byte // JSON; nil when the call has no body
	// Responses override the default classes of HTTP status codes.
	Responses map[int]sagav1.ResponseClass
}

// ErrCostLimit is wrapped by the error of an evaluation that went past Limits.Cost.
var ErrCostLimit = errors.New("CEL cost limit exceeded")

// ErrTooLarge is wrapped by the error of a request body or kept response over its limit.
var ErrTooLarge = errors.New("size limit exceeded")

// Request evaluates step i's do call (undo false) or undo call (undo true).
func (t *Template) Request(ctx context.Context, i int, undo bool, v Vars) (Request, error) {
	if i < 0 || i >= len(t.steps) {
		return Request{}, fmt.Errorf("template has no step %d", i)
	}
	c := t.steps[i].do
	if undo {
		c = t.steps[i].undo
	}
	if c == nil {
		return Request{}, fmt.Errorf("step %s has no undo call", t.steps[i].name)
	}
	act := v.activation(nil)
	pathVal, err := t.eval(ctx, c.pathPrg, c.path, act)
	if err != nil {
		return Request{}, err
	}
	path, ok := pathVal.(string)
	if !ok {
		return Request{}, fmt.Errorf("%s: must give a string, gave %T", c.path, pathVal)
	}
	req := Request{Name: c.name, Participant: c.participant, Method: c.method, Path: path, Responses: c.responses}
	if c.bodyPrg != nil {
		body, err := t.eval(ctx, c.bodyPrg, c.body, act)
		if err != nil {
			return Request{}, err
		}
		if req.Body, err = json.Marshal(body); err != nil {
			return Request{}, fmt.Errorf("%s: encode JSON: %w", c.body, err)
		}
		if len(req.Body) > t.limits.Body {
			return Request{}, fmt.Errorf("%s: request body of %d bytes is over the %d-byte limit: %w",
				c.body, len(req.Body), t.limits.Body, ErrTooLarge)
		}
	}
	return req, nil
}

// Outputs evaluates step i's outputs over the do call's decoded response. String results
// are kept as they are, any other value as JSON.
func (t *Template) Outputs(ctx context.Context, i int, v Vars, response any) (map[string]string, error) {
	if i < 0 || i >= len(t.steps) || len(t.steps[i].outputs) == 0 {
		return nil, nil
	}
	act := v.activation(response)
	out := make(map[string]string, len(t.steps[i].outputs))
	for _, o := range t.steps[i].outputs {
		val, err := t.eval(ctx, o.prg, o.field, act)
		if err != nil {
			return nil, err
		}
		if s, ok := val.(string); ok {
			out[o.name] = s
			continue
		}
		b, err := json.Marshal(val)
		if err != nil {
			return nil, fmt.Errorf("%s: encode JSON: %w", o.field, err)
		}
		out[o.name] = string(b)
	}
	return out, nil
}

// CheckKept returns an error when a response that must be kept is over Limits.Response.
func (t *Template) CheckKept(step string, body []byte) error {
	if !t.Keep(step) || len(body) <= t.limits.Response {
		return nil
	}
	return fmt.Errorf("response of %s is %d bytes, over the %d-byte limit of a response kept for later steps: %w",
		step, len(body), t.limits.Response, ErrTooLarge)
}

func (t *Template) eval(ctx context.Context, prg cel.Program, field string, act map[string]any) (any, error) {
	val, _, err := prg.ContextEval(ctx, act)
	if err != nil {
		if strings.Contains(err.Error(), "cost limit exceeded") {
			return nil, fmt.Errorf("%s: %w (%d): the expression does too much work for this input", field, ErrCostLimit, t.limits.Cost)
		}
		return nil, fmt.Errorf("%s: %s", field, oneLine(err.Error()))
	}
	out, err := native(val)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return out, nil
}

// native turns a CEL value into plain JSON-able Go values.
func native(v ref.Val) (any, error) {
	switch v := v.(type) {
	case types.String:
		return string(v), nil
	case types.Int:
		return int64(v), nil
	case types.Uint:
		return uint64(v), nil
	case types.Double:
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, errors.New("a number that JSON cannot carry (NaN or infinity)")
		}
		return float64(v), nil
	case types.Bool:
		return bool(v), nil
	case types.Null:
		return nil, nil
	case *types.Err:
		return nil, v
	case traits.Mapper:
		out := map[string]any{}
		for it := v.Iterator(); it.HasNext() == types.True; {
			k := it.Next()
			ks, ok := k.(types.String)
			if !ok {
				return nil, fmt.Errorf("a map key of type %s: JSON object keys are strings", k.Type())
			}
			val, err := native(v.Get(k))
			if err != nil {
				return nil, err
			}
			out[string(ks)] = val
		}
		return out, nil
	case traits.Lister:
		var out []any
		for it := v.Iterator(); it.HasNext() == types.True; {
			val, err := native(it.Next())
			if err != nil {
				return nil, err
			}
			out = append(out, val)
		}
		if out == nil {
			out = []any{}
		}
		return out, nil
	}
	if s, ok := v.ConvertToType(types.StringType).(types.String); ok {
		return string(s), nil // timestamps and durations
	}
	return nil, fmt.Errorf("a value of type %s that JSON cannot carry", v.Type())
}

// DecodeJSON decodes a JSON document for expressions: integral numbers become int64 (so
// that input.storeId + 1 and string(input.storeId) read as people expect), other numbers
// float64. Empty input decodes to nil.
func DecodeJSON(b []byte) (any, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after the JSON value")
	}
	return numbers(v), nil
}

func numbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case map[string]any:
		for k, x := range v {
			v[k] = numbers(x)
		}
	case []any:
		for k, x := range v {
			v[k] = numbers(x)
		}
	}
	return v
}

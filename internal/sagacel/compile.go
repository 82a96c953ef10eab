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

// Package sagacel compiles a SagaTemplate into the saga engine's definition and CEL
// programs, and evaluates a step's call (path, body) and outputs, with a cost limit per
// evaluation and size limits on request bodies and kept responses. It performs no call
// and reads no Kubernetes object: the Saga reconciler feeds it and performs the calls.
package sagacel

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/ext"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/saga"
)

// Limits bound what a template may cost at run time.
type Limits struct {
	// Cost is the CEL cost limit of one expression evaluation (cel-go's cost units,
	// roughly one per operation and per list element or string byte visited).
	Cost uint64
	// Body is the largest request body, in bytes.
	Body int
	// Response is the largest response kept for later steps, in bytes.
	Response int
}

// DefaultLimits are the operator's defaults.
var DefaultLimits = Limits{Cost: 1_000_000, Body: 64 << 10, Response: sagav1.MaxKeptResponse}

// Variable names visible to expressions.
const (
	VarInput    = "input"    // the Saga's spec.input
	VarSaga     = "saga"     // uid, name, namespace
	VarSteps    = "steps"    // earlier steps: steps.<Name>.response
	VarResponse = "response" // outputs only: the do call's response
)

// Template is a compiled SagaTemplate.
type Template struct {
	steps  []step
	keep   map[string]bool
	limits Limits
	def    saga.Definition // without a policy
}

type step struct {
	name     string
	do, undo *call
	outputs  []output
}

type call struct {
	name, participant, method string
	path, body                string // field paths for errors, e.g. spec.steps[0].do.path
	pathPrg, bodyPrg          cel.Program
	responses                 map[int]sagav1.ResponseClass
}

type output struct {
	name, field string
	prg         cel.Program
}

var env = mustEnv()

func mustEnv() *cel.Env {
	e, err := cel.NewEnv(
		cel.Variable(VarInput, cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable(VarSaga, cel.MapType(cel.StringType, cel.StringType)),
		cel.Variable(VarSteps, cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable(VarResponse, cel.DynType),
		ext.Strings(),
	)
	if err != nil {
		panic(fmt.Sprintf("sagacel: build CEL environment: %v", err))
	}
	return e
}

// Compile checks a template and compiles its expressions. declared reports whether a
// Participant of that name exists (nil: do not check). Every problem is reported, joined,
// each naming its field (spec.steps[1].do.path: ...) and the rule it breaks.
func Compile(spec *sagav1.SagaTemplateSpec, declared func(string) bool, limits Limits) (*Template, error) {
	t := &Template{keep: map[string]bool{}, limits: limits}
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	index := map[string]int{}
	for i, s := range spec.Steps {
		index[s.Name] = i
	}
	if sc := spec.InputSchema; sc != nil {
		for _, name := range sc.Required {
			if _, ok := sc.Properties[name]; !ok && !sc.AdditionalProperties {
				bad("spec.inputSchema.required", "%q is not among the properties", name)
			}
		}
		for _, name := range slices.Sorted(maps.Keys(sc.Properties)) {
			if p := sc.Properties[name]; p.Pattern == "" {
				continue
			} else if _, err := regexp.Compile(p.Pattern); err != nil {
				bad("spec.inputSchema.properties."+name+".pattern", "not a regular expression (RE2): %v", err)
			}
		}
	}
	pivots, forwardOnly := 0, false
	for i, s := range spec.Steps {
		field := fmt.Sprintf("spec.steps[%d]", i)
		switch s.Kind {
		case sagav1.StepPivot:
			pivots++
			forwardOnly = true
		case sagav1.StepCompensatable:
			if forwardOnly {
				bad(field+".kind", "every Compensatable step must come before the Pivot and before every Retriable step")
			}
		case sagav1.StepRetriable:
			if pivots == 0 {
				bad(field+".kind", "Retriable steps must come after the Pivot: a template with Retriable steps needs a Pivot before them")
			}
			forwardOnly = true
		}
		if s.Kind == sagav1.StepRetriable && s.Undo != nil {
			bad(field+".undo", "a Retriable step is never undone: remove its undo call")
		}
		if s.Kind == sagav1.StepCompensatable && s.Undo == nil {
			bad(field+".undo", "a Compensatable step needs an undo call")
		}
		st := step{name: s.Name}
		// A do and the outputs read earlier steps only; an undo may read its own step's
		// response too (when the do answered).
		st.do = compileCall(&s.Do, field+".do", s.Name, i, index, declared, t, bad)
		if s.Undo != nil {
			name := s.Undo.Name
			if name == "" {
				name = "Undo" + s.Name
			}
			st.undo = compileCall(s.Undo, field+".undo", name, i+1, index, declared, t, bad)
		}
		for j, o := range s.Outputs {
			of := fmt.Sprintf("%s.outputs[%d].expression", field, j)
			prg, err := t.compileExpr(o.Expression, of, nil, i, index)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			st.outputs = append(st.outputs, output{name: o.Name, field: of, prg: prg})
		}
		t.steps = append(t.steps, st)
	}
	if pivots > 1 {
		bad("spec.steps", "at most one step may be the Pivot, found %d", pivots)
	}
	t.def = definition(spec)
	policy := saga.Policy{MaxAttempts: 1, CompensationMaxAttempts: 1, BackoffBase: 1, BackoffMax: 1}
	if err := (saga.Definition{Steps: t.def.Steps, Policy: policy}).Validate(); err != nil && len(errs) == 0 {
		bad("spec.steps", "%v", err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

func compileCall(c *sagav1.Call, field, name string, before int, index map[string]int,
	declared func(string) bool, t *Template, bad func(string, string, ...any)) *call {
	out := &call{name: name, participant: c.Participant, method: c.Method,
		path: field + ".path", body: field + ".body", responses: map[int]sagav1.ResponseClass{}}
	if c.Name != "" {
		out.name = c.Name
	}
	if declared != nil && !declared(c.Participant) {
		bad(field+".participant", "participant %q is not declared: a cluster admin must create the Participant first "+
			"(templates can only call declared participants)", c.Participant)
	}
	for _, r := range c.Responses {
		out.responses[int(r.Status)] = r.Class
	}
	var err error
	if out.pathPrg, err = t.compileExpr(c.Path, out.path, cel.StringType, before, index); err != nil {
		bad(out.path, "%v", errors.Unwrap(err))
	}
	if c.Body != "" {
		if out.bodyPrg, err = t.compileExpr(c.Body, out.body, nil, before, index); err != nil {
			bad(out.body, "%v", errors.Unwrap(err))
		}
	}
	return out
}

type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return e.field + ": " + e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

// compileExpr compiles one expression that may read the steps before index before
// (by literal name), records those steps as kept, and checks its result type.
func (t *Template) compileExpr(src, field string, want *cel.Type, before int, index map[string]int) (cel.Program, error) {
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		return nil, &fieldError{field, fmt.Errorf("CEL does not compile: %s", oneLine(iss.Err().Error()))}
	}
	if want != nil && !ast.OutputType().IsAssignableType(want) && ast.OutputType() != cel.DynType {
		return nil, &fieldError{field, fmt.Errorf("must give a %s, gives a %s", want, ast.OutputType())}
	}
	refs, err := stepRefs(ast)
	if err != nil {
		return nil, &fieldError{field, err}
	}
	for _, name := range refs {
		j, ok := index[name]
		switch {
		case !ok:
			return nil, &fieldError{field, fmt.Errorf("steps.%s: no step of that name", name)}
		case j >= before:
			return nil, &fieldError{field, fmt.Errorf("steps.%s: only earlier steps' responses can be read", name)}
		}
		t.keep[name] = true
	}
	prg, err := env.Program(ast, cel.CostLimit(t.limits.Cost), cel.InterruptCheckFrequency(100))
	if err != nil {
		return nil, &fieldError{field, fmt.Errorf("CEL program: %w", err)}
	}
	return prg, nil
}

// stepRefs lists the step names an expression reads through steps.<Name> or
// steps['<Name>']; any other use of steps is refused, so that the operator knows which
// responses to keep.
func stepRefs(ast *cel.Ast) ([]string, error) {
	var names []string
	root := celast.NavigateAST(ast.NativeRep())
	for _, id := range celast.MatchDescendants(root, celast.KindMatcher(celast.IdentKind)) {
		if id.AsIdent() != VarSteps {
			continue
		}
		parent, ok := id.Parent()
		switch {
		case ok && parent.Kind() == celast.SelectKind:
			names = append(names, parent.AsSelect().FieldName())
			continue
		case ok && parent.Kind() == celast.CallKind && parent.AsCall().FunctionName() == operators.Index:
			if arg := parent.AsCall().Args()[1]; arg.Kind() == celast.LiteralKind {
				if s, isString := arg.AsLiteral().Value().(string); isString {
					names = append(names, s)
					continue
				}
			}
		}
		return nil, errors.New("steps must be read by a step's literal name, e.g. steps.LockCart.response")
	}
	return names, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// definition is the engine's view of the template. Without a Pivot, the last step plays
// its part: every step is undone on failure, and nothing runs after it.
func definition(spec *sagav1.SagaTemplateSpec) saga.Definition {
	def := saga.Definition{Steps: make([]saga.Step, len(spec.Steps))}
	hasPivot := false
	for _, s := range spec.Steps {
		hasPivot = hasPivot || s.Kind == sagav1.StepPivot
	}
	for i, s := range spec.Steps {
		st := saga.Step{Name: s.Name, Kind: saga.Kind(s.Kind), DoneEvent: s.DoneEvent, UndoneEvent: s.UndoneEvent}
		if !hasPivot && i == len(spec.Steps)-1 {
			st.Kind = saga.Pivot
		}
		if s.Undo != nil {
			st.Undo = s.Undo.Name
			if st.Undo == "" {
				st.Undo = "Undo" + s.Name
			}
		}
		if st.DoneEvent == "" {
			st.DoneEvent = upperSnake(s.Name) + "_DONE"
		}
		if st.UndoneEvent == "" {
			st.UndoneEvent = upperSnake(s.Name) + "_UNDONE"
		}
		def.Steps[i] = st
	}
	return def
}

// upperSnake turns LockCart into LOCK_CART.
func upperSnake(name string) string {
	var b strings.Builder
	for i, r := range name {
		if i > 0 && unicode.IsUpper(r) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// Definition returns the engine's definition of the template under policy p.
func (t *Template) Definition(p saga.Policy) saga.Definition {
	return saga.Definition{Steps: t.def.Steps, Policy: p}
}

// Keep reports whether a later expression reads the response of the named step, so that
// the caller must keep it (within Limits.Response).
func (t *Template) Keep(step string) bool { return t.keep[step] }

// Limits returns the limits the template evaluates under.
func (t *Template) Limits() Limits { return t.limits }

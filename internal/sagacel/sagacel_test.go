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
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/saga"
)

func checkoutSample(t *testing.T) *sagav1.SagaTemplate {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "config", "samples", "saga_v1alpha1_sagatemplate_checkout.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tpl := &sagav1.SagaTemplate{}
	if err := yaml.UnmarshalStrict(raw, tpl); err != nil {
		t.Fatal(err)
	}
	return tpl
}

func declared(names ...string) func(string) bool {
	return func(n string) bool {
		for _, x := range names {
			if x == n {
				return true
			}
		}
		return false
	}
}

func TestCheckoutSampleCompilesToTheOrderSaga(t *testing.T) {
	tpl := checkoutSample(t)
	c, err := Compile(&tpl.Spec, declared("carts", "stocks", "sales"), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	def := c.Definition(saga.Policy{MaxAttempts: 3, CompensationMaxAttempts: 3, BackoffBase: 1, BackoffMax: 2})
	if err := def.Validate(); err != nil {
		t.Fatal(err)
	}
	got := make([]string, 0, len(def.Steps))
	for _, s := range def.Steps {
		got = append(got, s.Name+"/"+string(s.Kind)+"/"+s.Undo+"/"+s.DoneEvent+"/"+s.UndoneEvent)
	}
	want := []string{
		"LockCart/Compensatable/UnlockCart/CART_LOCKED/CART_UNLOCKED",
		"ReserveStock/Compensatable/ReleaseStock/STOCK_RESERVED/STOCK_RELEASED",
		"CreateSale/Pivot/CancelSale/SALE_CREATED/SALE_CANCELLED",
		"CommitReservation/Retriable//RESERVATION_COMMITTED/COMMIT_RESERVATION_UNDONE",
		"CheckoutCart/Retriable//CART_CHECKED_OUT/CHECKOUT_CART_UNDONE",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("definition:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !c.Keep("LockCart") || c.Keep("ReserveStock") || c.Keep("CreateSale") {
		t.Errorf("only LockCart's response is read later: keep LockCart=%v ReserveStock=%v CreateSale=%v",
			c.Keep("LockCart"), c.Keep("ReserveStock"), c.Keep("CreateSale"))
	}

	ctx := context.Background()
	in, err := Input(tpl.Spec.InputSchema, []byte(`{"cartId":"c0ffee00-0000-4000-8000-00000000000a","storeId":101}`))
	if err != nil {
		t.Fatal(err)
	}
	lock, _ := DecodeJSON([]byte(`{"id":"c","storeId":101,"status":"LOCKED",
		"lines":[{"productId":501,"quantity":3,"unitPrice":"12.50"}],"total":"37.50"}`))
	v := Vars{Input: in, UID: "u-1", Name: "s", Namespace: "ns", Responses: map[string]any{"LockCart": lock}}

	req, err := c.Request(ctx, 0, false, v)
	if err != nil || req.Participant != "carts" || req.Method != "POST" ||
		req.Path != "/api/carts/c0ffee00-0000-4000-8000-00000000000a/lock" || string(req.Body) != `{"orderId":"u-1"}` {
		t.Errorf("LockCart request: %+v (%s), %v", req, req.Body, err)
	}
	req, err = c.Request(ctx, 1, false, v)
	if err != nil || req.Path != "/api/reservations/u-1" ||
		string(req.Body) != `{"lines":[{"productId":501,"quantity":3}],"storeId":101}` {
		t.Errorf("ReserveStock request: %+v (%s), %v", req, req.Body, err)
	}
	req, err = c.Request(ctx, 1, true, v)
	if err != nil || req.Name != "ReleaseStock" || req.Method != "DELETE" || req.Body != nil {
		t.Errorf("ReleaseStock request: %+v, %v", req, err)
	}
	sale, _ := DecodeJSON([]byte(`{"id":"u-1","total":"37.50","lines":[]}`))
	out, err := c.Outputs(ctx, 2, v, sale)
	if err != nil || out["saleId"] != "u-1" || out["total"] != "37.50" {
		t.Errorf("CreateSale outputs: %v, %v", out, err)
	}
}

func TestCompileRefusesWithTheFieldAndTheRule(t *testing.T) {
	call := func(path string) sagav1.Call {
		return sagav1.Call{Participant: "p", Method: "POST", Path: path}
	}
	undo := call("'/undo'")
	cases := map[string]struct {
		spec sagav1.SagaTemplateSpec
		want string
	}{
		"syntax": {sagav1.SagaTemplateSpec{Steps: []sagav1.TemplateStep{
			{Name: "A", Kind: sagav1.StepPivot, Do: call("'/a' +")}}}, "spec.steps[0].do.path: CEL does not compile"},
		"path type": {sagav1.SagaTemplateSpec{Steps: []sagav1.TemplateStep{
			{Name: "A", Kind: sagav1.StepPivot, Do: call("42")}}}, "spec.steps[0].do.path: must give a string, gives a int"},
		"unknown variable": {sagav1.SagaTemplateSpec{Steps: []sagav1.TemplateStep{
			{Name: "A", Kind: sagav1.StepPivot, Do: call("'/' + order.id")}}}, "undeclared reference to 'order'"},
		"participant": {sagav1.SagaTemplateSpec{Steps: []sagav1.TemplateStep{
			{Name: "A", Kind: sagav1.StepPivot, Do: sagav1.Call{Participant: "evil", Method: "GET", Path: "'/'"}}}},
			`spec.steps[0].do.participant: participant "evil" is not declared`},
		"later step": {sagav1.SagaTemplateSpec{Steps: []sagav1.TemplateStep{
			{Name: "A", Kind: sagav1.StepCompensatable, Do: call("'/' + steps.B.response.id"), Undo: &undo},
			{Name: "B", Kind: sagav1.StepPivot, Do: call("'/b'")}}},
			"spec.steps[0].do.path: steps.B: only earlier steps' responses can be read"},
		"unknown step": {sagav1.SagaTemplateSpec{Steps: []sagav1.TemplateStep{
			{Name: "A", Kind: sagav1.StepPivot, Do: call("'/' + steps.Nope.response.id")}}},
			"steps.Nope: no step of that name"},
		"dynamic steps": {sagav1.SagaTemplateSpec{Steps: []sagav1.TemplateStep{
			{Name: "A", Kind: sagav1.StepPivot, Do: call("'/' + string(steps.size())")}}},
			"steps must be read by a step's literal name"},
		"two pivots": {sagav1.SagaTemplateSpec{Steps: []sagav1.TemplateStep{
			{Name: "A", Kind: sagav1.StepPivot, Do: call("'/a'")}, {Name: "B", Kind: sagav1.StepPivot, Do: call("'/b'")}}},
			"at most one step may be the Pivot"},
		"undo on retriable": {sagav1.SagaTemplateSpec{Steps: []sagav1.TemplateStep{
			{Name: "A", Kind: sagav1.StepPivot, Do: call("'/a'")}, {Name: "B", Kind: sagav1.StepRetriable, Do: call("'/b'"), Undo: &undo}}},
			"spec.steps[1].undo: a Retriable step is never undone"},
		"compensatable without undo": {sagav1.SagaTemplateSpec{Steps: []sagav1.TemplateStep{
			{Name: "A", Kind: sagav1.StepCompensatable, Do: call("'/a'")}}},
			"spec.steps[0].undo: a Compensatable step needs an undo call"},
		"retriable before pivot": {sagav1.SagaTemplateSpec{Steps: []sagav1.TemplateStep{
			{Name: "A", Kind: sagav1.StepRetriable, Do: call("'/a'")}, {Name: "B", Kind: sagav1.StepPivot, Do: call("'/b'")}}},
			"spec.steps[0].kind: Retriable steps must come after the Pivot"},
		"compensatable after pivot": {sagav1.SagaTemplateSpec{Steps: []sagav1.TemplateStep{
			{Name: "A", Kind: sagav1.StepPivot, Do: call("'/a'")}, {Name: "B", Kind: sagav1.StepCompensatable, Do: call("'/b'"), Undo: &undo}}},
			"spec.steps[1].kind: every Compensatable step must come before the Pivot"},
		"retriable without pivot": {sagav1.SagaTemplateSpec{Steps: []sagav1.TemplateStep{
			{Name: "A", Kind: sagav1.StepCompensatable, Do: call("'/a'"), Undo: &undo}, {Name: "B", Kind: sagav1.StepRetriable, Do: call("'/b'")}}},
			"spec.steps[1].kind: Retriable steps must come after the Pivot"},
		"bad pattern": {sagav1.SagaTemplateSpec{
			InputSchema: &sagav1.InputSchema{Properties: map[string]sagav1.InputProperty{"a": {Type: "string", Pattern: "("}}},
			Steps:       []sagav1.TemplateStep{{Name: "A", Kind: sagav1.StepPivot, Do: call("'/a'")}}},
			"spec.inputSchema.properties.a.pattern: not a regular expression"},
	}
	for name, tc := range cases {
		_, err := Compile(&tc.spec, declared("p"), DefaultLimits)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", name, err, tc.want)
		}
	}
}

func TestNoPivotMakesTheLastStepThePivot(t *testing.T) {
	undo := sagav1.Call{Participant: "p", Method: "DELETE", Path: "'/x'"}
	spec := sagav1.SagaTemplateSpec{Steps: []sagav1.TemplateStep{
		{Name: "A", Kind: sagav1.StepCompensatable, Do: sagav1.Call{Participant: "p", Method: "PUT", Path: "'/a'"}, Undo: &undo},
		{Name: "B", Kind: sagav1.StepCompensatable, Do: sagav1.Call{Participant: "p", Method: "PUT", Path: "'/b'"}, Undo: &undo},
	}}
	c, err := Compile(&spec, nil, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	def := c.Definition(saga.Policy{MaxAttempts: 1, CompensationMaxAttempts: 1, BackoffBase: 1, BackoffMax: 1})
	if def.Steps[1].Kind != saga.Pivot || def.Steps[0].Kind != saga.Compensatable || def.Steps[1].Undo != "UndoB" {
		t.Errorf("steps: %+v", def.Steps)
	}
}

func TestCostAndSizeLimits(t *testing.T) {
	spec := sagav1.SagaTemplateSpec{Steps: []sagav1.TemplateStep{{Name: "A", Kind: sagav1.StepPivot,
		Do: sagav1.Call{Participant: "p", Method: "POST", Path: "'/a'",
			Body: "{'pairs': input.items.map(x, input.items.map(y, x * y))}"}}}}
	c, err := Compile(&spec, nil, Limits{Cost: 10_000, Body: 1 << 20, Response: 100})
	if err != nil {
		t.Fatal(err)
	}
	small, _ := Input(nil, []byte(`{"items":[1,2,3]}`))
	if req, err := c.Request(context.Background(), 0, false, Vars{Input: small}); err != nil ||
		string(req.Body) != `{"pairs":[[1,2,3],[2,4,6],[3,6,9]]}` {
		t.Fatalf("small input: %s, %v", req.Body, err)
	}
	items := make([]int, 500)
	raw, _ := json.Marshal(map[string]any{"items": items})
	big, _ := Input(nil, raw)
	_, err = c.Request(context.Background(), 0, false, Vars{Input: big})
	if !errors.Is(err, ErrCostLimit) || !strings.Contains(err.Error(), "spec.steps[0].do.body: CEL cost limit exceeded (10000)") {
		t.Errorf("cost limit: %v", err)
	}

	c, err = Compile(&spec, nil, Limits{Cost: 1 << 40, Body: 64, Response: 100})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Request(context.Background(), 0, false, Vars{Input: small}); err != nil {
		t.Errorf("a body under the limit: %v", err)
	}
	mid, _ := Input(nil, []byte(`{"items":[1,2,3,4,5,6,7]}`))
	if _, err := c.Request(context.Background(), 0, false, Vars{Input: mid}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("body limit: %v", err)
	}
}

func TestCheckKept(t *testing.T) {
	tpl := checkoutSample(t)
	c, err := Compile(&tpl.Spec, nil, Limits{Cost: 1000, Body: 1000, Response: 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckKept("LockCart", []byte(`{"lines":[1,2,3]}`)); !errors.Is(err, ErrTooLarge) ||
		!strings.Contains(err.Error(), "response of LockCart is 17 bytes, over the 10-byte limit") {
		t.Errorf("kept response over the limit: %v", err)
	}
	if err := c.CheckKept("CreateSale", []byte(`{"lines":[1,2,3]}`)); err != nil {
		t.Errorf("a response nobody reads is not kept, so not limited: %v", err)
	}
}

func TestInputSchema(t *testing.T) {
	tpl := checkoutSample(t)
	sc := tpl.Spec.InputSchema
	if _, err := Input(sc, []byte(`{"cartId":"c0ffee00-0000-4000-8000-00000000000a","storeId":101}`)); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		`{"storeId":101}`:                 "spec.input.cartId: required",
		`{"cartId":"nope","storeId":101}`: "spec.input.cartId: must be a UUID",
		`{"cartId":"c0ffee00-0000-4000-8000-00000000000a","storeId":0}`:           "spec.input.storeId: must be at least 1",
		`{"cartId":"c0ffee00-0000-4000-8000-00000000000a","storeId":"101"}`:       "spec.input.storeId: must be of type integer, got string",
		`{"cartId":"c0ffee00-0000-4000-8000-00000000000a","storeId":1.5}`:         "spec.input.storeId: must be of type integer, got number",
		`{"cartId":"c0ffee00-0000-4000-8000-00000000000a","storeId":1,"store":2}`: "spec.input.store: unknown field",
		`[1]`: "spec.input: must be a JSON object, got array",
	}
	for in, want := range cases {
		if _, err := Input(sc, []byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", in, err, want)
		}
	}
	sc2 := &sagav1.InputSchema{Properties: map[string]sagav1.InputProperty{
		"room": {Type: "string", Pattern: "^[A-Z][0-9]+$", Enum: []string{"A1", "B2"}},
		"when": {Type: "string", Format: "date-time"},
		"tags": {Type: "array", MaxItems: ptr(int64(1))},
	}}
	for in, want := range map[string]string{
		`{"room":"C3"}`:       `spec.input.room: must be one of ["A1" "B2"]`,
		`{"room":"a1"}`:       "spec.input.room: must be one of",
		`{"when":"tomorrow"}`: "spec.input.when: must be an RFC 3339 date-time",
		`{"tags":[1,2]}`:      "spec.input.tags: must have at most 1 items",
	} {
		if _, err := Input(sc2, []byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", in, err, want)
		}
	}
	if _, err := Input(nil, []byte(strings.Repeat(" ", MaxInput+1))); err == nil {
		t.Error("an input over the size limit must be refused")
	}
}

func ptr[T any](v T) *T { return &v }

func TestEverySampleTemplateCompiles(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "..", "config", "samples", "*sagatemplate*.yaml"))
	if err != nil || len(paths) < 2 {
		t.Fatalf("sample templates: %v, %v", paths, err)
	}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		tpl := &sagav1.SagaTemplate{}
		if err := yaml.UnmarshalStrict(raw, tpl); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if _, err := Compile(&tpl.Spec, declared("carts", "stocks", "sales"), DefaultLimits); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	// The direct sale's input and request, as docs/sagas.md shows them.
	raw, _ := os.ReadFile(filepath.Join("..", "..", "config", "samples", "saga_v1alpha1_sagatemplate_direct_sale.yaml"))
	tpl := &sagav1.SagaTemplate{}
	_ = yaml.Unmarshal(raw, tpl)
	c, _ := Compile(&tpl.Spec, nil, DefaultLimits)
	in, err := Input(tpl.Spec.InputSchema, []byte(`{"storeId":101,"productId":503,"quantity":2,"unitPrice":"3.20"}`))
	if err != nil {
		t.Fatal(err)
	}
	req, err := c.Request(context.Background(), 1, false, Vars{Input: in, UID: "u"})
	if err != nil || string(req.Body) != `{"lines":[{"productId":503,"quantity":2,"unitPrice":"3.20"}],"orderId":"u","storeId":101}` {
		t.Errorf("CreateSale: %s, %v", req.Body, err)
	}
	if _, err := Input(tpl.Spec.InputSchema, []byte(`{"storeId":101,"productId":503,"quantity":2,"unitPrice":"3.2"}`)); err == nil ||
		!strings.Contains(err.Error(), `spec.input.unitPrice: must match the pattern`) {
		t.Errorf("unitPrice pattern: %v", err)
	}
}

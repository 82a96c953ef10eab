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

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// StepKind says how a template step's failure is handled; the rules are the saga engine's.
// +kubebuilder:validation:Enum=Compensatable;Pivot;Retriable
// +kubebuilder:validation:MaxLength=13
type StepKind string

const (
	// StepCompensatable steps come before the pivot and are undone when the saga fails.
	StepCompensatable StepKind = "Compensatable"
	// StepPivot is the go/no-go step: once it succeeded the saga only moves forward.
	StepPivot StepKind = "Pivot"
	// StepRetriable steps come after the pivot: retried until they succeed, never undone.
	StepRetriable StepKind = "Retriable"
)

// ResponseClass is how a participant's answer counts for the saga.
// +kubebuilder:validation:Enum=Success;Refusal;Transient
type ResponseClass string

// Response classes: by default 2xx is Success, 4xx a Refusal (final: compensate), and
// 408, 429, 5xx and timeouts are Transient (retried with backoff).
const (
	ResponseSuccess   ResponseClass = "Success"
	ResponseRefusal   ResponseClass = "Refusal"
	ResponseTransient ResponseClass = "Transient"
)

// Condition types and reasons of SagaTemplates and Sagas (names users script against).
const (
	// ConditionValid is True on a SagaTemplate whose steps compile and whose names resolve.
	ConditionValid = "Valid"
	// ReasonTemplateValid: every expression compiles and every participant is declared.
	ReasonTemplateValid = "TemplateValid"
	// ReasonTemplateInvalid: a rule is broken; the message names the field and the rule.
	ReasonTemplateInvalid = "TemplateInvalid"
	// ReasonTemplateNotFound: a Saga's templateRef names no SagaTemplate (yet).
	ReasonTemplateNotFound = "TemplateNotFound"
	// ReasonInputInvalid: a Saga's input does not match its template's input schema.
	ReasonInputInvalid = "InputInvalid"
)

// Default history events of a Saga; a template may rename the first one (startedEvent).
const (
	EventSagaCreated = "SAGA_CREATED"
	EventCompleted   = "COMPLETED"
	EventCompensated = "COMPENSATED"
)

// SagaTemplateSpec is a saga written as data: an input schema and ordered steps whose
// calls are CEL expressions. The order of the kinds (Compensatable, then the Pivot, then
// Retriable) is checked by the SagaTemplate controller (condition Valid): the API
// server's cost estimate of such list rules is over its budget.
// +kubebuilder:validation:XValidation:rule="self.steps.filter(s, s.kind == 'Pivot').size() <= 1",message="at most one step may be the Pivot"
type SagaTemplateSpec struct {
	// InputSchema describes the Saga's spec.input (an OpenAPI v3 subset): a Saga whose
	// input does not match fails at once with reason InputInvalid, before any call.
	// +optional
	InputSchema *InputSchema `json:"inputSchema,omitempty"`

	// StartedEvent is the first history entry of every Saga of this template
	// (default SAGA_CREATED).
	// +kubebuilder:validation:Pattern=`^[A-Z][A-Z0-9_]*$`
	// +kubebuilder:validation:MaxLength=63
	// +optional
	StartedEvent string `json:"startedEvent,omitempty"`

	// Steps run in order: Compensatable steps first, then at most one Pivot, then
	// Retriable steps. Without a Pivot the last step plays its part (every step is undone
	// on failure, nothing runs after it).
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=20
	// +listType=map
	// +listMapKey=name
	// +required
	Steps []TemplateStep `json:"steps"`
}

// InputSchema is the subset of OpenAPI v3 a Saga's input is checked against: an object
// with typed properties.
type InputSchema struct {
	// Properties of the input object, by name.
	// +kubebuilder:validation:MaxProperties=64
	// +optional
	Properties map[string]InputProperty `json:"properties,omitempty"`
	// Required lists the properties the input must have.
	// +kubebuilder:validation:MaxItems=64
	// +listType=set
	// +optional
	Required []string `json:"required,omitempty"`
	// AdditionalProperties allows input fields that Properties does not list
	// (default false: they are refused, as a typo would be).
	// +optional
	AdditionalProperties bool `json:"additionalProperties,omitempty"`
}

// InputProperty is the schema of one input field.
// +kubebuilder:validation:XValidation:rule="!has(self.minimum) && !has(self.maximum) || self.type in ['integer', 'number']",message="minimum and maximum apply to integer and number properties only"
// +kubebuilder:validation:XValidation:rule="!has(self.minLength) && !has(self.maxLength) && !has(self.pattern) && !has(self.format) || self.type == 'string'",message="minLength, maxLength, pattern and format apply to string properties only"
// +kubebuilder:validation:XValidation:rule="!has(self.minItems) && !has(self.maxItems) || self.type == 'array'",message="minItems and maxItems apply to array properties only"
type InputProperty struct {
	// Type of the value.
	// +kubebuilder:validation:Enum=string;integer;number;boolean;object;array
	// +required
	Type string `json:"type"`
	// Description of the field, for people.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Description string `json:"description,omitempty"`
	// Format of a string: uuid or date-time (RFC 3339).
	// +kubebuilder:validation:Enum=uuid;date-time
	// +optional
	Format string `json:"format,omitempty"`
	// Pattern is a regular expression (RE2) a string must match.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Pattern string `json:"pattern,omitempty"`
	// Enum lists the allowed values of a string.
	// +kubebuilder:validation:MaxItems=64
	// +optional
	Enum []string `json:"enum,omitempty"`
	// Minimum of an integer or number.
	// +optional
	Minimum *int64 `json:"minimum,omitempty"`
	// Maximum of an integer or number.
	// +optional
	Maximum *int64 `json:"maximum,omitempty"`
	// MinLength of a string.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MinLength *int64 `json:"minLength,omitempty"`
	// MaxLength of a string.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MaxLength *int64 `json:"maxLength,omitempty"`
	// MinItems of an array.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MinItems *int64 `json:"minItems,omitempty"`
	// MaxItems of an array.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MaxItems *int64 `json:"maxItems,omitempty"`
}

// TemplateStep is one step: a participant call to do it, and for Compensatable steps
// (optionally the Pivot) a call to undo it.
// +kubebuilder:validation:XValidation:rule="self.kind != 'Compensatable' || has(self.undo)",message="a Compensatable step needs an undo call"
// +kubebuilder:validation:XValidation:rule="self.kind != 'Retriable' || !has(self.undo)",message="a Retriable step is never undone: remove its undo call"
type TemplateStep struct {
	// Name of the step, CamelCase, e.g. LockCart; earlier steps' responses are read as
	// steps.<Name>.response.
	// +kubebuilder:validation:Pattern=`^[A-Z][A-Za-z0-9]*$`
	// +kubebuilder:validation:MaxLength=63
	// +required
	Name string `json:"name"`
	// Kind: Compensatable, Pivot or Retriable.
	// +required
	Kind StepKind `json:"kind"`
	// Do is the call that performs the step.
	// +required
	Do Call `json:"do"`
	// Undo is the call that compensates the step: required for Compensatable steps,
	// optional for the Pivot (used when a deletion with policy Compensate undoes it),
	// refused for Retriable steps.
	// +optional
	Undo *Call `json:"undo,omitempty"`
	// Outputs are CEL expressions over the do call's response (response), the input,
	// saga and earlier steps, whose values are kept in the Saga's status.outputs.
	// +kubebuilder:validation:MaxItems=16
	// +listType=map
	// +listMapKey=name
	// +optional
	Outputs []Output `json:"outputs,omitempty"`
	// DoneEvent is the history entry recorded when the step is done
	// (default: the name in upper snake case with _DONE, e.g. LOCK_CART_DONE).
	// +kubebuilder:validation:Pattern=`^[A-Z][A-Z0-9_]*$`
	// +kubebuilder:validation:MaxLength=63
	// +optional
	DoneEvent string `json:"doneEvent,omitempty"`
	// UndoneEvent is the history entry recorded when the step is undone
	// (default: the name in upper snake case with _UNDONE).
	// +kubebuilder:validation:Pattern=`^[A-Z][A-Z0-9_]*$`
	// +kubebuilder:validation:MaxLength=63
	// +optional
	UndoneEvent string `json:"undoneEvent,omitempty"`
}

// Call is one HTTP call to a declared Participant. Path and body are CEL expressions over
// input (the Saga's spec.input), saga (uid, name, namespace) and steps (earlier steps'
// responses: steps.LockCart.response). Every call carries X-Correlation-ID: the Saga's UID.
type Call struct {
	// Name of the call in status and Events (default: the step's name for a do,
	// Undo<Step> for an undo), e.g. UnlockCart.
	// +kubebuilder:validation:Pattern=`^[A-Z][A-Za-z0-9]*$`
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Name string `json:"name,omitempty"`
	// Participant names a cluster-scoped Participant; its URL is the base of Path.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Participant string `json:"participant"`
	// Method is the HTTP method.
	// +kubebuilder:validation:Enum=GET;POST;PUT;PATCH;DELETE
	// +required
	Method string `json:"method"`
	// Path is a CEL expression giving a string that starts with "/", appended to the
	// participant's URL, e.g. '/api/carts/' + input.cartId + '/lock'. A path that would
	// leave the participant (another host, "..") is refused before any call.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	// +required
	Path string `json:"path"`
	// Body is a CEL expression giving the JSON request body, e.g.
	// {'orderId': saga.uid}; none when empty.
	// +kubebuilder:validation:MaxLength=4096
	// +optional
	Body string `json:"body,omitempty"`
	// Responses override how HTTP status codes count, e.g. 404 as Success for a DELETE of
	// something already gone.
	// +kubebuilder:validation:MaxItems=16
	// +listType=map
	// +listMapKey=status
	// +optional
	Responses []ResponseRule `json:"responses,omitempty"`
}

// ResponseRule makes one HTTP status code count as the given class.
type ResponseRule struct {
	// Status is the HTTP status code.
	// +kubebuilder:validation:Minimum=100
	// +kubebuilder:validation:Maximum=599
	// +required
	Status int32 `json:"status"`
	// Class: Success, Refusal or Transient.
	// +required
	Class ResponseClass `json:"class"`
}

// Output extracts one value into the Saga's status.outputs.
type Output struct {
	// Name of the output, e.g. saleId.
	// +kubebuilder:validation:Pattern=`^[a-zA-Z][A-Za-z0-9_]*$`
	// +kubebuilder:validation:MaxLength=63
	// +required
	Name string `json:"name"`
	// Expression is CEL over response, input, saga and steps; a string result is kept as
	// is, any other value as JSON.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	// +required
	Expression string `json:"expression"`
}

// SagaTemplateStatus tells whether the template can run.
type SagaTemplateStatus struct {
	// ObservedGeneration is the generation the conditions were computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Valid.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// SagaTemplate is a saga written as data: its Sagas run its steps, in order, on declared
// Participants. A running Saga keeps a snapshot of the template it started with, so
// editing or deleting a template never changes a Saga in flight.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=stpl,categories=kubesaga
// +kubebuilder:printcolumn:name="Valid",type=string,JSONPath=`.status.conditions[?(@.type=="Valid")].status`
// +kubebuilder:printcolumn:name="Message",type=string,JSONPath=`.status.conditions[?(@.type=="Valid")].message`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type SagaTemplate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec SagaTemplateSpec `json:"spec"`
	// +optional
	Status SagaTemplateStatus `json:"status,omitempty"`
}

// SagaTemplateList is a list of SagaTemplates.
// +kubebuilder:object:root=true
type SagaTemplateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SagaTemplate `json:"items"`
}

func init() {
	SchemeBuilder.Register(func(s *runtime.Scheme) error {
		s.AddKnownTypes(GroupVersion, &SagaTemplate{}, &SagaTemplateList{})
		return nil
	})
}

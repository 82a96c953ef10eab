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

// SagaSpec asks for one run of a SagaTemplate. It is immutable: a Saga is one run.
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec is immutable: create a new Saga instead"
type SagaSpec struct {
	// TemplateRef names the SagaTemplate, in the Saga's namespace. The Saga takes a
	// snapshot of it when it starts (status.template): later edits of the template do not
	// change it.
	// +required
	TemplateRef TemplateRef `json:"templateRef"`

	// Input is the JSON object the template's expressions read as input; it must match the
	// template's inputSchema. At most 16 KiB.
	// +kubebuilder:validation:Type=object
	// +kubebuilder:pruning:PreserveUnknownFields
	// +optional
	Input *runtime.RawExtension `json:"input,omitempty"`

	// DeletionPolicy says what deleting a finished Saga does: Retain (default) leaves what
	// its steps did; Compensate undoes every step that has an undo call, the Pivot's
	// included.
	// +kubebuilder:default=Retain
	// +optional
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`

	// Timeout is the saga's deadline, counted from the Saga's creation (e.g. "30s", "5m").
	// Past it, a saga that has not reached its Pivot is compensated.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="timeout must be a positive duration such as 30s or 5m"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`
}

// TemplateRef names a SagaTemplate in the same namespace.
type TemplateRef struct {
	// Name of the SagaTemplate.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`
}

// TemplateSnapshot is the template a Saga runs, copied when it started.
type TemplateSnapshot struct {
	// Name of the SagaTemplate.
	Name string `json:"name"`
	// UID of the SagaTemplate copied.
	// +optional
	UID string `json:"uid,omitempty"`
	// Generation of the SagaTemplate copied.
	// +optional
	Generation int64 `json:"generation,omitempty"`
	// Spec is the copied template.
	Spec SagaTemplateSpec `json:"spec"`
}

// KeptResponse is a step's response body, kept because a later expression reads it.
type KeptResponse struct {
	// Step whose do call answered.
	Step string `json:"step"`
	// Body is the JSON response, at most 16 KiB.
	// +kubebuilder:validation:MaxLength=16384
	Body string `json:"body"`
}

// MaxKeptResponse bounds one response kept in a Saga's status for later steps.
const MaxKeptResponse = 16 << 10

// SagaStatus is the observed progress of the Saga; its shape and meaning are an Order's.
type SagaStatus struct {
	// ObservedGeneration is the generation this status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Phase is a one-word summary derived from the conditions, for display.
	// +optional
	Phase OrderPhase `json:"phase,omitempty"`
	// CurrentStep is the step being done or undone.
	// +optional
	CurrentStep string `json:"currentStep,omitempty"`
	// Steps records every step of the saga. Only the operator writes it, always whole
	// (an atomic list: one managed-fields entry, not one per step and field).
	// +listType=atomic
	// +optional
	Steps []StepStatus `json:"steps,omitempty"`
	// Outputs are the values the template's outputs extracted, by name.
	// +optional
	Outputs map[string]string `json:"outputs,omitempty"`
	// LastError is the error that made the saga compensate or stall.
	// +optional
	LastError string `json:"lastError,omitempty"`
	// NextRetryAt is when the operator next tries a step that failed transiently.
	// +optional
	NextRetryAt *metav1.Time `json:"nextRetryAt,omitempty"`
	// StartedAt is when the saga started.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// LastHandledRetry is the last saga.kubesaga.io/retry token the operator acted on (or,
	// for a token present when the saga started, recorded without a retry); the annotation
	// asks for a retry again only when its value differs.
	// +optional
	LastHandledRetry string `json:"lastHandledRetry,omitempty"`
	// History of saga events, oldest first, bounded to the last 32.
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	// +optional
	History []HistoryEntry `json:"history,omitempty"`
	// Conditions: Succeeded, Compensated, Stalled, Progressing.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// TraceID is the OpenTelemetry trace of this Saga's saga (32 hex digits): search it in
	// the tracing backend. Set by the first status write while the operator exports traces;
	// every later reconcile pass continues the same trace.
	// +optional
	TraceID string `json:"traceId,omitempty"`
	// TraceParent is the W3C traceparent of the first traced reconcile pass, the parent of
	// the later ones.
	// +optional
	TraceParent string `json:"traceParent,omitempty"`
	// Template is the snapshot of the SagaTemplate this Saga runs.
	// +optional
	Template *TemplateSnapshot `json:"template,omitempty"`
	// Responses are the response bodies later steps read.
	// +kubebuilder:validation:MaxItems=20
	// +listType=map
	// +listMapKey=step
	// +optional
	Responses []KeptResponse `json:"responses,omitempty"`
}

// Saga is one run of a SagaTemplate: the operator drives its steps on the declared
// Participants, records them in status and, when a step fails, undoes the done ones,
// newest first. A stalled Saga resumes when its saga.kubesaga.io/retry annotation is
// set to a new token; see status.lastHandledRetry.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=kubesaga
// +kubebuilder:printcolumn:name="Template",type=string,JSONPath=`.spec.templateRef.name`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Step",type=string,JSONPath=`.status.currentStep`
// +kubebuilder:printcolumn:name="Error",type=string,JSONPath=`.status.lastError`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Saga struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec SagaSpec `json:"spec"`
	// +optional
	Status SagaStatus `json:"status,omitempty"`
}

// SagaList is a list of Sagas.
// +kubebuilder:object:root=true
type SagaList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Saga `json:"items"`
}

func init() {
	SchemeBuilder.Register(func(s *runtime.Scheme) error {
		s.AddKnownTypes(GroupVersion, &Saga{}, &SagaList{})
		return nil
	})
}

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
)

// DeletionPolicy says what deleting a finished Order does to what its saga did.
// +kubebuilder:validation:Enum=Retain;Compensate
type DeletionPolicy string

const (
	// DeletionRetain leaves the sale of a finished Order in place.
	DeletionRetain DeletionPolicy = "Retain"
	// DeletionCompensate undoes everything the saga did before the Order goes away.
	DeletionCompensate DeletionPolicy = "Compensate"
)

// OrderSpec is the checkout a shop asks for. It is immutable: an Order is one saga.
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec is immutable: create a new Order instead"
type OrderSpec struct {
	// CartID is the UUID of the cart to check out.
	// +kubebuilder:validation:Format=uuid
	// +kubebuilder:validation:MaxLength=36
	// +required
	CartID string `json:"cartId"`

	// StoreID is the store the cart belongs to; an integer greater than 0.
	// +kubebuilder:validation:Minimum=1
	// +required
	StoreID int64 `json:"storeId"`

	// DeletionPolicy says what deleting a finished Order does: Retain (default) leaves the
	// sale; Compensate cancels the sale, releases the stock and reopens the cart first.
	// +kubebuilder:default=Retain
	// +optional
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`

	// Timeout is the saga's deadline, counted from the Order's creation (e.g. "30s", "5m").
	// Past it, a saga that has not reached its pivot (the sale) is compensated.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="timeout must be a positive duration such as 30s or 5m"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`
}

// OrderPhase is a one-word summary for display, derived from the conditions.
// +kubebuilder:validation:Enum=Pending;Running;Compensating;Succeeded;Failed;Stalled
type OrderPhase string

// Phases, for display only: the conditions are the truth.
const (
	PhasePending      OrderPhase = "Pending"
	PhaseRunning      OrderPhase = "Running"
	PhaseCompensating OrderPhase = "Compensating"
	PhaseSucceeded    OrderPhase = "Succeeded"
	PhaseFailed       OrderPhase = "Failed"
	PhaseStalled      OrderPhase = "Stalled"
)

// Condition types of an Order.
const (
	// ConditionSucceeded is True when every step is done, False when the saga failed.
	ConditionSucceeded = "Succeeded"
	// ConditionCompensated is True when every done step was undone after a failure or deletion.
	ConditionCompensated = "Compensated"
	// ConditionStalled is True when a step or compensation cannot succeed: a person must act.
	ConditionStalled = "Stalled"
	// ConditionProgressing is True while the saga runs or compensates.
	ConditionProgressing = "Progressing"
)

// StepStatus is the recorded state of one saga step.
type StepStatus struct {
	// Name of the step, e.g. LockCart.
	Name string `json:"name"`
	// State of the step: Pending, Retrying, Succeeded, Refused, Exhausted, Compensating, Compensated or Stalled.
	State string `json:"state"`
	// Attempts made to do the step.
	// +optional
	Attempts int32 `json:"attempts,omitempty"`
	// CompensationAttempts made to undo the step.
	// +optional
	CompensationAttempts int32 `json:"compensationAttempts,omitempty"`
	// ProbeAttempts counts the failed reads of the pivot's probe (e.g. GetSale), asked
	// before compensating when a restart left the pivot's outcome unknown.
	// +optional
	ProbeAttempts int32 `json:"probeAttempts,omitempty"`
	// LastError is the last failure of the step.
	// +optional
	LastError string `json:"lastError,omitempty"`
	// NextRetryAt is when the step is tried again after a transient failure.
	// +optional
	NextRetryAt *metav1.Time `json:"nextRetryAt,omitempty"`
	// StartedAt is the first attempt's time. Deprecated: no longer written, status.history
	// holds the time of each do, undo, retry and failure; kept as written by older versions.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// FinishedAt is when the step reached a final state. Deprecated: no longer written, as
	// StartedAt.
	// +optional
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`
}

// HistoryEntry is one saga event, e.g. CART_LOCKED.
type HistoryEntry struct {
	// Event name, e.g. ORDER_CREATED, CART_LOCKED, STOCK_RESERVED, SALE_CREATED, COMPLETED.
	Event string `json:"event"`
	// Time the event happened.
	Time metav1.Time `json:"time"`
	// Message gives details, e.g. the error of a failed step.
	// +optional
	Message string `json:"message,omitempty"`
}

// MaxHistory bounds status.history so that a long-retrying Order cannot grow without bound
// (consecutive retries of one call also fold into one entry).
const MaxHistory = 32

// OrderStatus is the observed progress of the Order's saga.
type OrderStatus struct {
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
	// SaleID is the id of the sale created by the saga.
	// +optional
	SaleID string `json:"saleId,omitempty"`
	// ReservationID is the id of the stock reservation. Deprecated: no longer written, it
	// is the Order's UID (metadata.uid), as the sale id is; kept as written by older versions.
	// +optional
	ReservationID string `json:"reservationId,omitempty"`
	// Total of the sale, a decimal string such as "37.50".
	// +optional
	Total string `json:"total,omitempty"`
	// LastError is the error that made the saga compensate or stall.
	// +optional
	LastError string `json:"lastError,omitempty"`
	// NextRetryAt is when the operator next tries a step that failed transiently.
	// +optional
	NextRetryAt *metav1.Time `json:"nextRetryAt,omitempty"`
	// StartedAt is when the saga started.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// CompletedAt is when every step was done; it stays set if the Order is later undone
	// on deletion (policy Compensate), which is therefore not counted as a failure.
	// +optional
	CompletedAt *metav1.Time `json:"completedAt,omitempty"`
	// LastHandledRetry is the last saga.kubesaga.io/retry token the operator acted on (or,
	// for a token present when the saga started, recorded without a retry); the annotation
	// asks for a retry again only when its value differs.
	// +optional
	LastHandledRetry string `json:"lastHandledRetry,omitempty"`
	// TraceID is the OpenTelemetry trace of this Order's saga (32 hex digits): search it in
	// the tracing backend. Set by the first status write while the operator exports traces;
	// every later reconcile pass continues the same trace.
	// +optional
	TraceID string `json:"traceId,omitempty"`
	// TraceParent is the W3C traceparent of the first traced reconcile pass, the parent of
	// the later ones.
	// +optional
	TraceParent string `json:"traceParent,omitempty"`
	// History of saga events, oldest first, bounded to the last 32.
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	// +optional
	History []HistoryEntry `json:"history,omitempty"`
	// Conditions: Succeeded, Compensated, Stalled, Progressing.
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
}

// Order is a checkout whose saga the operator drives: lock the cart, reserve the stock,
// create the sale, commit the reservation, check the cart out; undo on failure. A
// stalled Order resumes when its saga.kubesaga.io/retry annotation is set to a new token
// (kubectl saga retry ORDER); see status.lastHandledRetry.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ord,categories=kubesaga
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Step",type=string,JSONPath=`.status.currentStep`
// +kubebuilder:printcolumn:name="Sale",type=string,JSONPath=`.status.saleId`
// +kubebuilder:printcolumn:name="Total",type=string,JSONPath=`.status.total`,priority=1
// +kubebuilder:printcolumn:name="Error",type=string,JSONPath=`.status.lastError`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Order struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec OrderSpec `json:"spec"`
	// +optional
	Status OrderStatus `json:"status,omitempty"`
}

// OrderList is a list of Orders.
// +kubebuilder:object:root=true
type OrderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Order `json:"items"`
}

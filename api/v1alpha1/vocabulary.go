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

// The names users script against (kubectl wait, alerts, jq over status.history, Event
// filters) live here, so that a rename is an API change and never an accident. The
// controller and its tests use these constants; docs/operations.md lists them.

// Condition reasons of an Order (CamelCase, per the Kubernetes API conventions).
const (
	// ReasonRunning: the saga is doing its steps.
	ReasonRunning = "Running"
	// ReasonWaitingToRetry: a step failed transiently and waits for its backoff.
	ReasonWaitingToRetry = "WaitingToRetry"
	// ReasonRetryLimitExceeded: a step (or an undo) failed transiently more than the attempt
	// limit allows and still retries at the capped backoff: an outage lasts long.
	ReasonRetryLimitExceeded = "RetryLimitExceeded"
	// ReasonCompleted: every step is done.
	ReasonCompleted = "Completed"
	// ReasonCompensating: the done steps are being undone, newest first.
	ReasonCompensating = "Compensating"
	// ReasonCompensated: every done step was undone.
	ReasonCompensated = "Compensated"
	// ReasonNotStalled: nothing waits for a person.
	ReasonNotStalled = "NotStalled"
	// ReasonStalled: the Progressing reason while a person must act.
	ReasonStalled = "Stalled"

	// Why a saga compensates (the reason of Succeeded=False).

	// ReasonStepRefused: a step before the pivot, or the pivot, was refused (4xx).
	ReasonStepRefused = "StepRefused"
	// ReasonAttemptsExhausted: a step before the pivot, or the pivot, failed transiently
	// --max-attempts times.
	ReasonAttemptsExhausted = "AttemptsExhausted"
	// ReasonDeadlineExceeded: spec.timeout passed before the pivot succeeded.
	ReasonDeadlineExceeded = "DeadlineExceeded"
	// ReasonAborted: the Order was deleted (before the pivot, or with policy Compensate).
	ReasonAborted = "Aborted"

	// Why a saga is stalled (the reason of Stalled=True).

	// ReasonCompensationRefused: a participant refused an undo (4xx): a person must act.
	ReasonCompensationRefused = "CompensationRefused"
	// ReasonRetriableStepRefused: a participant refused a step after the pivot (4xx).
	ReasonRetriableStepRefused = "RetriableStepRefused"
)

// History event names of status.history (SCREAMING_SNAKE_CASE, as the reference saga log).
const (
	HistoryOrderCreated         = "ORDER_CREATED"
	HistoryCartLocked           = "CART_LOCKED"
	HistoryCartUnlocked         = "CART_UNLOCKED"
	HistoryStockReserved        = "STOCK_RESERVED"
	HistoryStockReleased        = "STOCK_RELEASED"
	HistorySaleCreated          = "SALE_CREATED"
	HistorySaleCancelled        = "SALE_CANCELLED"
	HistoryReservationCommitted = "RESERVATION_COMMITTED"
	HistoryCartCheckedOut       = "CART_CHECKED_OUT"
	HistoryStepRetrying         = "STEP_RETRYING"
	HistoryStepFailed           = "STEP_FAILED"
	HistoryCompensationRetrying = "COMPENSATION_RETRYING"
	HistoryRetryLimitExceeded   = "RETRY_LIMIT_EXCEEDED"
	HistoryRetryRequested       = "RETRY_REQUESTED"
	HistoryStalled              = "STALLED"
	HistoryCompleted            = "COMPLETED"
	HistoryCompensated          = "COMPENSATED"
	// HistoryFailed ends the log of a saga that failed, after COMPENSATED, so that
	// the history alone tells the outcome (an Order undone on deletion after it completed
	// ends with COMPENSATED: it did not fail).
	HistoryFailed = "FAILED"
)

// Kubernetes Event reasons about an Order (CamelCase). A step's Event reason is its
// history event in CamelCase (CART_LOCKED: CartLocked).
const (
	EventReasonCartLocked           = "CartLocked"
	EventReasonCartUnlocked         = "CartUnlocked"
	EventReasonStockReserved        = "StockReserved"
	EventReasonStockReleased        = "StockReleased"
	EventReasonSaleCreated          = "SaleCreated"
	EventReasonSaleCancelled        = "SaleCancelled"
	EventReasonReservationCommitted = "ReservationCommitted"
	EventReasonCartCheckedOut       = "CartCheckedOut"
	EventReasonStepRetrying         = "StepRetrying"         // Warning
	EventReasonStepFailed           = "StepFailed"           // Warning
	EventReasonCompensationRetrying = "CompensationRetrying" // Warning
	// EventReasonRetryLimitExceeded (Warning) is raised once when a step or an undo passes
	// its attempt limit and keeps retrying; EventReasonStepRecovered (Normal) follows when
	// it succeeds.
	EventReasonRetryLimitExceeded = "RetryLimitExceeded"
	EventReasonStepRecovered      = "StepRecovered"
	EventReasonRetryRequested     = "RetryRequested"
	// EventReasonPivotConfirmed (Normal): the saga was about to compensate from a status
	// that predates its pivot (a crash lost the record), and the pivot's probe found the
	// pivot's effect (the sale): it goes forward instead.
	EventReasonPivotConfirmed = "PivotConfirmed"
	EventReasonStalled        = "Stalled" // Warning
	EventReasonCompleted      = "Completed"
	EventReasonCompensated    = "Compensated"
)

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

// Reasons carried by Action.Reason and Summary.Reason. They are CamelCase so that the
// reconciler can use them verbatim as Event and Condition reasons.
const (
	ReasonStepRefused          = "StepRefused"          // a compensatable step or the pivot was refused
	ReasonAttemptsExhausted    = "AttemptsExhausted"    // a compensatable step or the pivot failed transiently MaxAttempts times
	ReasonDeadlineExceeded     = "DeadlineExceeded"     // State.Deadline passed before the pivot succeeded
	ReasonAborted              = "Aborted"              // State.Abort: undo everything (deletion)
	ReasonCompensationRefused  = "CompensationRefused"  // a participant refused an undo (4xx): a person must act
	ReasonRetriableStepRefused = "RetriableStepRefused" // a participant refused a step after the pivot (4xx): a person must act
)

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

package controllers

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/saga"
)

// setConditions derives every condition, and from them the phase, of an Order.
func setConditions(o *sagav1.Order, sum saga.Summary, act saga.Action) {
	o.Status.Phase = deriveConditions(&o.Status.Conditions, o.Generation, sum, act, false)
}

// deriveConditions sets every condition of a saga resource (Order or Saga: the same
// conditions, with the same meaning) from the engine's view of the saga, so that a status
// is a function of the recorded steps, never of the path that led there, and returns the
// display phase. started says a step was attempted even if the summary does not.
func deriveConditions(conds *[]metav1.Condition, gen int64, sum saga.Summary, act saga.Action, started bool) sagav1.OrderPhase {
	sum.Started = sum.Started || started
	set := func(typ string, status metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(conds, metav1.Condition{
			Type: typ, Status: status, Reason: reason, Message: msg, ObservedGeneration: gen,
		})
	}
	switch {
	case act.Type == saga.ActFinish && act.Result == saga.ResultSucceeded:
		// Compensated and Progressing say nothing their reason does not: no message, as
		// every succeeded Order's status is stored and its size counts (docs/architecture.md).
		set(sagav1.ConditionSucceeded, metav1.ConditionTrue, sagav1.ReasonCompleted, "every step is done")
		set(sagav1.ConditionCompensated, metav1.ConditionFalse, sagav1.ReasonCompleted, "")
		set(sagav1.ConditionProgressing, metav1.ConditionFalse, sagav1.ReasonCompleted, "")
	case act.Type == saga.ActFinish:
		set(sagav1.ConditionSucceeded, metav1.ConditionFalse, reasonOr(act.Reason, sagav1.ReasonCompensated), sum.LastError)
		set(sagav1.ConditionCompensated, metav1.ConditionTrue, sagav1.ReasonCompensated, "every done step was undone")
		set(sagav1.ConditionProgressing, metav1.ConditionFalse, sagav1.ReasonCompensated, "the saga is finished")
	case sum.Compensating:
		set(sagav1.ConditionSucceeded, metav1.ConditionFalse, reasonOr(act.Reason, sagav1.ReasonCompensating), sum.LastError)
		set(sagav1.ConditionCompensated, metav1.ConditionFalse, sagav1.ReasonCompensating, "undoing the done steps, newest first")
		set(sagav1.ConditionProgressing, metav1.ConditionTrue, progressingReason(sum, act, sagav1.ReasonCompensating), "compensating")
	default:
		reason := progressingReason(sum, act, sagav1.ReasonRunning)
		set(sagav1.ConditionSucceeded, metav1.ConditionUnknown, reason, "the saga is running")
		set(sagav1.ConditionCompensated, metav1.ConditionFalse, reason, "nothing compensated")
		set(sagav1.ConditionProgressing, metav1.ConditionTrue, reason, "the saga is running")
	}
	if act.Type == saga.ActStall {
		set(sagav1.ConditionStalled, metav1.ConditionTrue, reasonOr(act.Reason, sagav1.ReasonStalled),
			"a person must act, then set the annotation "+sagav1.RetryAnnotation+" to a new token: "+sum.LastError)
		set(sagav1.ConditionProgressing, metav1.ConditionFalse, sagav1.ReasonStalled, "waiting for a person")
	} else {
		set(sagav1.ConditionStalled, metav1.ConditionFalse, sagav1.ReasonNotStalled, "")
	}
	return phaseOf(*conds, sum.Started)
}

// progressingReason tells a saga that works from one that waits, and one that waits
// longer than its attempt limit allowed for (an alert-worthy outage) from both.
func progressingReason(sum saga.Summary, act saga.Action, working string) string {
	switch {
	case sum.PastAttemptLimit:
		return sagav1.ReasonRetryLimitExceeded
	case act.Type == saga.ActWait:
		return sagav1.ReasonWaitingToRetry
	}
	return working
}

// phaseOf computes the display phase from the conditions, which are the truth; started
// says whether any step was attempted (a saga that did not start yet is Pending).
func phaseOf(conds []metav1.Condition, started bool) sagav1.OrderPhase {
	compensated := meta.FindStatusCondition(conds, sagav1.ConditionCompensated)
	switch {
	case meta.IsStatusConditionTrue(conds, sagav1.ConditionStalled):
		return sagav1.PhaseStalled
	case meta.IsStatusConditionTrue(conds, sagav1.ConditionSucceeded):
		return sagav1.PhaseSucceeded
	case meta.IsStatusConditionTrue(conds, sagav1.ConditionCompensated):
		return sagav1.PhaseFailed
	case compensated != nil && compensated.Reason == sagav1.ReasonCompensating:
		return sagav1.PhaseCompensating
	case started:
		return sagav1.PhaseRunning
	default:
		return sagav1.PhasePending
	}
}

func reasonOr(reason, fallback string) string {
	if reason == "" {
		return fallback
	}
	return reason
}

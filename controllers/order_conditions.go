package controllers

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/saga"
)

// Condition reasons (CamelCase, per the API conventions).
const (
	ReasonPending      = "Pending"
	ReasonRunning      = "Running"
	ReasonCompleted    = "Completed"
	ReasonCompensating = "Compensating"
	ReasonCompensated  = "Compensated"
	ReasonNotStalled   = "NotStalled"
	ReasonWaiting      = "WaitingToRetry"
)

// setConditions derives every condition from the engine's view of the saga, so that a
// status is a function of the recorded steps, never of the path that led there.
func setConditions(o *sagav1.Order, sum saga.Summary, act saga.Action) {
	gen := o.Generation
	set := func(typ string, status metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&o.Status.Conditions, metav1.Condition{
			Type: typ, Status: status, Reason: reason, Message: msg, ObservedGeneration: gen,
		})
	}
	switch {
	case act.Type == saga.ActFinish && act.Result == saga.ResultSucceeded:
		set(sagav1.ConditionSucceeded, metav1.ConditionTrue, ReasonCompleted, "every step is done")
		set(sagav1.ConditionCompensated, metav1.ConditionFalse, ReasonCompleted, "nothing to compensate")
		set(sagav1.ConditionProgressing, metav1.ConditionFalse, ReasonCompleted, "the saga is finished")
	case act.Type == saga.ActFinish:
		set(sagav1.ConditionSucceeded, metav1.ConditionFalse, reasonOr(act.Reason, ReasonCompensated), sum.LastError)
		set(sagav1.ConditionCompensated, metav1.ConditionTrue, ReasonCompensated, "every done step was undone")
		set(sagav1.ConditionProgressing, metav1.ConditionFalse, ReasonCompensated, "the saga is finished")
	case sum.Compensating:
		set(sagav1.ConditionSucceeded, metav1.ConditionFalse, reasonOr(act.Reason, ReasonCompensating), sum.LastError)
		set(sagav1.ConditionCompensated, metav1.ConditionFalse, ReasonCompensating, "undoing the done steps, newest first")
		set(sagav1.ConditionProgressing, metav1.ConditionTrue, ReasonCompensating, "compensating")
	default:
		reason := ReasonRunning
		if act.Type == saga.ActWait {
			reason = ReasonWaiting
		}
		set(sagav1.ConditionSucceeded, metav1.ConditionUnknown, reason, "the saga is running")
		set(sagav1.ConditionCompensated, metav1.ConditionFalse, reason, "nothing compensated")
		set(sagav1.ConditionProgressing, metav1.ConditionTrue, reason, "the saga is running")
	}
	if act.Type == saga.ActStall {
		set(sagav1.ConditionStalled, metav1.ConditionTrue, reasonOr(act.Reason, "Stalled"),
			"a person must act, then annotate the Order with "+sagav1.RetryAnnotation+": "+sum.LastError)
		set(sagav1.ConditionProgressing, metav1.ConditionFalse, "Stalled", "waiting for a person")
	} else {
		set(sagav1.ConditionStalled, metav1.ConditionFalse, ReasonNotStalled, "")
	}
	o.Status.Phase = phaseOf(o.Status.Conditions, len(o.Status.Steps) > 0)
}

// phaseOf computes the display phase from the conditions, which are the truth.
func phaseOf(conds []metav1.Condition, started bool) sagav1.OrderPhase {
	switch {
	case meta.IsStatusConditionTrue(conds, sagav1.ConditionStalled):
		return sagav1.PhaseStalled
	case meta.IsStatusConditionTrue(conds, sagav1.ConditionSucceeded):
		return sagav1.PhaseSucceeded
	case meta.IsStatusConditionTrue(conds, sagav1.ConditionCompensated):
		return sagav1.PhaseFailed
	case meta.FindStatusCondition(conds, sagav1.ConditionCompensated) != nil &&
		meta.FindStatusCondition(conds, sagav1.ConditionCompensated).Reason == ReasonCompensating:
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

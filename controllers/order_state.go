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
	"hash/fnv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/ordersaga"
	"github.com/kubesaga/kubesaga/internal/saga"
)

// sagaState loads the engine's state from an Order's status (saga_status.go's loader).
func sagaState(def saga.Definition, o *sagav1.Order) saga.State {
	return engineState(def, o.Status.Steps, string(o.UID), o.CreationTimestamp.Time, o.Spec.Timeout)
}

// storeSagaState writes the engine's state into the Order's status (see stepStatuses).
// The reservation id is not written: it is the Order's UID, as the sale id (which the
// printer columns show) is; an older status keeps the one it has.
func storeSagaState(st saga.State, out ordersaga.Output, o *sagav1.Order) {
	o.Status.Steps = stepStatuses(st, o.Status.Steps)
	if out.SaleID != "" {
		o.Status.SaleID = out.SaleID
		o.Status.Total = out.Total
	}
}

// sagaOutput loads what earlier passes learned.
func sagaOutput(o *sagav1.Order) ordersaga.Output {
	return ordersaga.Output{ReservationID: o.Status.ReservationID, SaleID: o.Status.SaleID, Total: o.Status.Total}
}

// seedOf makes backoff jitter deterministic per Order, so a restart computes the same waits.
func seedOf(uid string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(uid))
	return h.Sum64()
}

func timeOf(t *metav1.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.Time
}

// metaTime keeps second precision, as the API server does, so that a status read back
// compares equal to the one written.
func metaTime(t time.Time) *metav1.Time {
	if t.IsZero() {
		return nil
	}
	m := metav1.NewTime(t.Truncate(time.Second))
	return &m
}

// failedStep names the step that made the saga fail, for the failure metric: the first
// refused or exhausted one, or noStep when none did (deadline, deletion).
func failedStep(def saga.Definition, st saga.State) string {
	for i, s := range st.Steps {
		if i < len(def.Steps) && (s.Status == saga.StepRefused || s.Status == saga.StepExhausted) {
			return def.Steps[i].Name
		}
	}
	return noStep
}

// abortOnDeletion says whether a deleted Order's saga must be undone (docs/operations.md,
// deletion policies): Compensate undoes everything, the sale included; Retain undoes only
// a saga that has not passed its pivot, and finishes forward one that has, so that the
// sale stands. A finished saga that needs nothing is left alone.
func abortOnDeletion(o *sagav1.Order, def saga.Definition, st saga.State, finishedNeedsNothing bool) bool {
	if o.DeletionTimestamp.IsZero() || finishedNeedsNothing {
		return false
	}
	return o.Spec.DeletionPolicy == sagav1.DeletionCompensate || !saga.PastPivot(def, st)
}

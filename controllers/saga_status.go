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
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/saga"
)

// The mappers between the engine's state and the status types that Orders and Sagas
// share (StepStatus, HistoryEntry, conditions). They work on those types, not on a kind,
// so that any saga resource can use them: the Order's (order_state.go,
// order_conditions.go) are thin wrappers over them.

// engineState loads the engine's state of a saga resource: its recorded steps, the seed
// of its backoff jitter (from its UID, so a restart computes the same waits) and its
// deadline (creation + timeout, when it has one).
func engineState(def saga.Definition, recorded []sagav1.StepStatus, uid string, created time.Time,
	timeout *metav1.Duration) saga.State {
	st := saga.State{Steps: stepStates(def, recorded), Seed: seedOf(uid)}
	if timeout != nil && timeout.Duration > 0 {
		st.Deadline = created.Add(timeout.Duration)
	}
	return st
}

// stepStates loads the engine's step states from recorded step statuses.
func stepStates(def saga.Definition, recorded []sagav1.StepStatus) []saga.StepState {
	byName := make(map[string]sagav1.StepStatus, len(recorded))
	for _, s := range recorded {
		byName[s.Name] = s
	}
	out := make([]saga.StepState, len(def.Steps))
	for i, d := range def.Steps {
		s, ok := byName[d.Name]
		if !ok {
			out[i] = saga.StepState{Name: d.Name, Status: saga.StepPending}
			continue
		}
		out[i] = saga.StepState{
			Name: s.Name, Status: saga.StepStatus(s.State),
			Attempts: int(s.Attempts), UndoAttempts: int(s.CompensationAttempts), Probes: int(s.ProbeAttempts), LastError: s.LastError,
			NextRetryAt: timeOf(s.NextRetryAt), StartedAt: timeOf(s.StartedAt), FinishedAt: timeOf(s.FinishedAt),
		}
	}
	return out
}

// stepStatuses records the engine's step states. Pending steps are left out so that a
// fresh saga's status stays short, and so are the steps' times: status.history holds the
// time of every do, undo, retry and failure, and a status says nothing twice. A step
// recorded with times by an older version keeps them (from prev) until its state changes,
// so that an upgrade rewrites no finished saga.
func stepStatuses(st saga.State, prev []sagav1.StepStatus) []sagav1.StepStatus {
	steps := make([]sagav1.StepStatus, 0, len(st.Steps))
	for _, s := range st.Steps {
		if s.Status == saga.StepPending && s.Attempts == 0 && s.Probes == 0 {
			continue
		}
		ss := sagav1.StepStatus{
			Name:                 s.Name,
			State:                string(s.Status),
			Attempts:             int32(s.Attempts),     //nolint:gosec // bounded by the attempt limits
			CompensationAttempts: int32(s.UndoAttempts), //nolint:gosec // bounded by the attempt limits
			ProbeAttempts:        int32(s.Probes),       //nolint:gosec // a probe in backoff waits between attempts
			LastError:            s.LastError,
			NextRetryAt:          metaTime(s.NextRetryAt),
		}
		for _, p := range prev {
			if p.Name == s.Name && p.State == ss.State {
				ss.StartedAt, ss.FinishedAt = p.StartedAt, p.FinishedAt
				break
			}
		}
		steps = append(steps, ss)
	}
	return steps
}

// withHistory adds a saga event and keeps only the newest MaxHistory entries.
// A retry of the same call as the last entry replaces it (its message, from retryNote,
// counts the attempts), so that a long outage does not push the saga's story out of the
// bounded history.
func withHistory(h []sagav1.HistoryEntry, event string, at time.Time, msg string) []sagav1.HistoryEntry {
	entry := sagav1.HistoryEntry{Event: event, Time: metav1.NewTime(at.Truncate(time.Second)), Message: msg}
	if n := len(h); n > 0 && sameRetry(h[n-1], entry) {
		h[n-1] = entry
		return h
	}
	h = append(h, entry)
	if n := len(h); n > sagav1.MaxHistory {
		h = append(h[:0:0], h[n-sagav1.MaxHistory:]...)
	}
	return h
}

// hasHistory reports whether the log holds an entry for event.
func hasHistory(h []sagav1.HistoryEntry, event string) bool {
	for _, e := range h {
		if e.Event == event {
			return true
		}
	}
	return false
}

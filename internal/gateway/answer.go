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

package gateway

import (
	"fmt"
	"net/http"
	"net/url"

	"k8s.io/apimachinery/pkg/api/meta"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/services/httpapi"
)

// Problem slugs of the gateway, besides httpapi's.
const (
	// SlugSagaFailed: the saga failed and was compensated (409); lastError and
	// failedStep say why.
	SlugSagaFailed = "saga-failed"
)

// Order is the JSON answer for an Order: 201 (POST) or 200 (GET) when it succeeded,
// 202 while it runs (or is Stalled: a person must act), and the members of the 409
// problem when it failed.
type Order struct {
	Order          string    `json:"order"`
	UID            string    `json:"uid"`
	IdempotencyKey string    `json:"idempotencyKey"`
	Phase          string    `json:"phase"`
	CartID         string    `json:"cartId"`
	StoreID        int64     `json:"storeId"`
	CurrentStep    string    `json:"currentStep,omitempty"`
	SaleID         string    `json:"saleId,omitempty"`
	Total          string    `json:"total,omitempty"`
	LastError      string    `json:"lastError,omitempty"`
	History        []History `json:"history"`
}

// History is one saga event of the Order's status.history.
type History struct {
	Event   string `json:"event"`
	Time    string `json:"time"`
	Message string `json:"message,omitempty"`
}

// View renders an Order for a client.
func View(o *sagav1.Order) Order {
	v := Order{
		Order:          o.Name,
		UID:            string(o.UID),
		IdempotencyKey: o.Annotations[sagav1.IdempotencyKeyAnnotation],
		Phase:          string(o.Status.Phase),
		CartID:         o.Spec.CartID,
		StoreID:        o.Spec.StoreID,
		CurrentStep:    o.Status.CurrentStep,
		SaleID:         o.Status.SaleID,
		Total:          o.Status.Total,
		LastError:      o.Status.LastError,
		History:        make([]History, 0, len(o.Status.History)),
	}
	if v.Phase == "" {
		v.Phase = string(sagav1.PhasePending) // created, not yet seen by the operator
	}
	for _, h := range o.Status.History {
		v.History = append(v.History, History{Event: h.Event, Time: h.Time.UTC().Format("2006-01-02T15:04:05Z"), Message: h.Message})
	}
	return v
}

// Finished reports whether the Order's saga reached an end a client can act on:
// succeeded, or failed with every done step compensated. A Stalled Order is not
// finished: a person must act, after which it goes on.
func Finished(o *sagav1.Order) bool {
	c := o.Status.Conditions
	return meta.IsStatusConditionTrue(c, sagav1.ConditionSucceeded) ||
		(meta.IsStatusConditionFalse(c, sagav1.ConditionSucceeded) && meta.IsStatusConditionTrue(c, sagav1.ConditionCompensated))
}

// FailedStep names the step whose refusal (or exhausted retries) made the saga
// compensate, or "" when none did (a deadline, a deletion).
func FailedStep(o *sagav1.Order) string {
	for _, s := range o.Status.Steps {
		if s.State == "Refused" || s.State == "Exhausted" {
			return s.Name
		}
	}
	return ""
}

// Answer is what the gateway answers for o. created chooses 201 over 200 for a
// success (POST creates; GET reads). A failed saga is a 409 problem carrying the
// Order's lastError and failed step; a running or stalled one is 202 with a
// Location to poll.
func Answer(o *sagav1.Order, created bool) (httpapi.Answer, http.Header, error) {
	v := View(o)
	c := o.Status.Conditions
	switch {
	case meta.IsStatusConditionTrue(c, sagav1.ConditionSucceeded):
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		a, err := httpapi.JSONAnswer(status, v)
		return a, nil, err
	case Finished(o):
		step := FailedStep(o)
		detail := "the saga failed and every done step was compensated"
		if step != "" {
			detail = step + " failed: " + v.LastError + "; every done step was compensated"
		} else if v.LastError != "" {
			detail = v.LastError + "; every done step was compensated"
		}
		p := httpapi.NewProblem(http.StatusConflict, SlugSagaFailed, "The order's saga failed and was compensated", detail)
		p.Extensions = map[string]any{
			"order": v.Order, "uid": v.UID, "idempotencyKey": v.IdempotencyKey, "phase": v.Phase,
			"cartId": v.CartID, "storeId": v.StoreID, "failedStep": step, "lastError": v.LastError, "history": v.History,
		}
		return httpapi.ProblemAnswer(p), nil, nil
	default:
		a, err := httpapi.JSONAnswer(http.StatusAccepted, v)
		h := http.Header{}
		h.Set("Location", Location(v.IdempotencyKey))
		h.Set("Retry-After", "1")
		return a, h, err
	}
}

// Location is the path that answers for key: GET /api/orders/{key}.
func Location(key string) string { return "/api/orders/" + url.PathEscape(key) }

// mismatch refuses a key reused with another body (422).
func mismatch(key, name string) *httpapi.Problem {
	p := httpapi.IdempotencyMismatch(fmt.Sprintf("Idempotency-Key %q was first used with a different body (Order %s); "+
		"send the same body to get its answer, or use a new key for a new order", key, name))
	p.Field = HeaderIdempotencyKey
	p.Extensions = map[string]any{"order": name}
	return p
}

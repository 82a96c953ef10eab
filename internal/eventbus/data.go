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

package eventbus

// ServiceData is the data of a participant's business event (subject
// kubesaga.<service>.<action>): the record its GET /api/events lists.
type ServiceData struct {
	Action        string `json:"action"`        // e.g. LOCK_CART
	Outcome       string `json:"outcome"`       // SUCCESS, or FAILURE for a business refusal
	CorrelationID string `json:"correlationId"` // the saga's correlation id (the Order UID)
	Detail        string `json:"detail"`        // what happened, in words
}

// OrderData is the data of a saga log event (subject kubesaga.orders.<EVENT>): one
// entry of an Order's status.history.
type OrderData struct {
	Event     string `json:"event"`             // e.g. CART_LOCKED
	Namespace string `json:"namespace"`         // the Order's namespace
	Name      string `json:"name"`              // the Order's name
	UID       string `json:"uid"`               // the Order's UID, also the event's subject
	Index     int    `json:"index"`             // the entry's position in the saga log, from 0
	Message   string `json:"message,omitempty"` // details, e.g. the error of a failed step
}

// OrdersService is the service token of the saga log's subjects and types.
const OrdersService = "orders"

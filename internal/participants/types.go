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

package participants

// Line is one product line of a cart, a reservation or a sale.
type Line struct {
	ProductID int64  `json:"productId"`
	Quantity  int64  `json:"quantity"`
	UnitPrice string `json:"unitPrice,omitempty"` // decimal string with two places, e.g. "12.50"
}

// Cart is a shop's cart as the carts service shows it.
type Cart struct {
	ID       string `json:"id"`
	StoreID  int64  `json:"storeId"`
	Status   string `json:"status"` // OPEN, LOCKED, CHECKED_OUT
	LockedBy string `json:"lockedBy,omitempty"`
	Lines    []Line `json:"lines"`
	Total    string `json:"total,omitempty"`
}

// Reservation is a stock reservation.
type Reservation struct {
	ID      string `json:"id"`
	StoreID int64  `json:"storeId"`
	Lines   []Line `json:"lines"`
	Status  string `json:"status"` // RESERVED, COMMITTED, RELEASED
}

// Stock is a product's stock level in a store.
type Stock struct {
	StoreID   int64 `json:"storeId"`
	ProductID int64 `json:"productId"`
	Quantity  int64 `json:"quantity"` // available: on hand minus what reservations hold
	OnHand    int64 `json:"onHand"`   // what SetStock set, less what was sold
}

// Sale is a sale as the sales service shows it.
type Sale struct {
	ID      string `json:"id"`
	StoreID int64  `json:"storeId"`
	OrderID string `json:"orderId"`
	Status  string `json:"status"` // CREATED, CANCELLED
	Lines   []Line `json:"lines"`
	Total   string `json:"total"`
}

// Event is one business event of a participant.
type Event struct {
	Action        string `json:"action"`
	Outcome       string `json:"outcome"`
	CorrelationID string `json:"correlationId"`
	Detail        string `json:"detail"`
	CreatedAt     string `json:"createdAt"`
}

type eventList struct {
	Items []Event `json:"items"`
}

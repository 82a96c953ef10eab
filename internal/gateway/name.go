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

// Package gateway is kubesaga's HTTP front door: the reference system's order API
// (POST /api/orders with an Idempotency-Key header, answered synchronously) in front
// of the Order resource. It stores nothing of its own: the key becomes the Order's
// name (a readable prefix and a hash), the key and a hash of the request become
// annotations, and the answer is read from the Order's status. One shared watch on
// the Orders of its namespace wakes every waiting request.
package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kubesaga/kubesaga/services/httpapi"
)

// HeaderIdempotencyKey names the header that makes a POST idempotent.
const HeaderIdempotencyKey = "Idempotency-Key"

// MaxKeyLength bounds the key: it is stored in an annotation and logged.
const MaxKeyLength = 255

// Name derivation: a readable prefix of the key, then hashLen hex digits of its
// SHA-256 (80 bits: a collision needs about 2^40 keys), so that a person finds the
// Order of key "hp-1" in `kubectl get orders` and distinct keys never share a name.
const (
	maxPrefixLen = 40
	hashLen      = 20
	emptyPrefix  = "order"
)

// CheckKey validates an Idempotency-Key: 1 to MaxKeyLength printable ASCII
// characters (the header's value as a client sends it; it is never unquoted).
func CheckKey(key string) *httpapi.Problem {
	if key == "" {
		return httpapi.Invalid(HeaderIdempotencyKey, "header is required: send a unique key per order, e.g. a UUID, and the same key on a retry")
	}
	if len(key) > MaxKeyLength {
		return httpapi.Invalid(HeaderIdempotencyKey, fmt.Sprintf("must not exceed %d characters", MaxKeyLength))
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return httpapi.Invalid(HeaderIdempotencyKey, "must be printable ASCII")
		}
	}
	return nil
}

// OrderName derives the Order's name from an idempotency key: stable (the same key
// always gives the same name, on any replica), a valid DNS-1123 label (lower-case
// letters, digits and '-', at most 63 characters, alphanumeric at both ends), and
// collision-resistant (the hash covers the whole key, case included, so "HP-1" and
// "hp-1" are different Orders).
func OrderName(key string) string {
	sum := sha256.Sum256([]byte(key))
	hash := hex.EncodeToString(sum[:])[:hashLen]
	prefix := sanitize(key)
	if prefix == "" {
		prefix = emptyPrefix
	}
	return prefix + "-" + hash
}

// sanitize keeps a readable, DNS-safe prefix of the key: lower-cased letters and
// digits, every other run of characters folded into one '-', no '-' at either end.
func sanitize(key string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(key) {
		if b.Len() >= maxPrefixLen {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimRight(b.String(), "-")
}

// Request is the body of POST /api/orders.
type Request struct {
	CartID  string `json:"cartId"`
	StoreID int64  `json:"storeId"`
}

// wireRequest tells a missing field (nil) from a zero one.
type wireRequest struct {
	CartID  *string `json:"cartId"`
	StoreID *int64  `json:"storeId"`
}

// DecodeRequest reads a body strictly (see httpapi.DecodeBytes): one JSON object,
// no unknown fields, right types, both fields present. The values' rules (cartId a
// UUID, storeId at least 1) are the Order CRD's, checked by the API server, whose
// message the gateway carries through: one set of rules, one wording.
func DecodeRequest(body []byte) (Request, *httpapi.Problem) {
	var w wireRequest
	if p := httpapi.DecodeBytes(body, &w); p != nil {
		return Request{}, p
	}
	if w.CartID == nil {
		return Request{}, httpapi.Invalid("cartId", "is required and must be a UUID")
	}
	if w.StoreID == nil {
		return Request{}, httpapi.Invalid("storeId", "is required and must be an integer of at least 1")
	}
	return Request{CartID: *w.CartID, StoreID: *w.StoreID}, nil
}

// Hash is "sha256:<hex>" of the request's canonical JSON: the same order sent with
// other spacing or field order hashes the same; any other value does not.
func (r Request) Hash() string {
	b, err := json.Marshal(r) // a struct of a string and an integer: cannot fail
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

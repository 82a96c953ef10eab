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

// Annotations the HTTP gateway (cmd/gateway) writes on the Orders it creates. The
// gateway keeps no state of its own: these are how it recognises a replayed request.
const (
	// IdempotencyKeyAnnotation holds the Idempotency-Key header the Order was created
	// for; the Order's name is derived from it (a readable prefix and a hash).
	IdempotencyKeyAnnotation = "saga.kubesaga.io/idempotency-key"
	// RequestHashAnnotation holds "sha256:<hex>" of the canonical request body
	// ({cartId, storeId}); the same key with another hash is refused with 422.
	RequestHashAnnotation = "saga.kubesaga.io/request-hash"
)

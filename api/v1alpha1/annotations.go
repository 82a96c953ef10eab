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

const (
	// Finalizer holds an Order whose saga is in flight, or whose policy is Compensate,
	// until its compensations are done.
	Finalizer = "saga.kubesaga.io/finalizer"
	// RetryAnnotation asks for a stalled step to be retried, or a backoff cut short. Its
	// value is a token (e.g. an RFC3339 timestamp): the operator acts once per new token and
	// records it in status.lastHandledRetry, leaving the annotation in place so that GitOps
	// tools see no drift. The old one-shot values (RetryNow, or empty) are acted on and
	// removed, since the same value set twice cannot be told apart.
	RetryAnnotation = "saga.kubesaga.io/retry"
	// RetryNow is the one-shot retry value of older releases
	// (kubectl annotate order NAME saga.kubesaga.io/retry=now).
	RetryNow = "now"
)

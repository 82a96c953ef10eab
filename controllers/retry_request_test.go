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
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
)

// The decision behind the GitOps-safe retry; the envtest specs in retry_annotation_test.go
// show it end to end.
func TestRetryRequest(t *testing.T) {
	for _, tc := range []struct {
		name          string
		annotation    *string // nil: absent
		handled       string
		started       bool
		retry, remove bool
		handledAfter  string
	}{
		{name: "no annotation", handled: "t1", started: true, handledAfter: "t1"},
		{name: "a new token retries once and is recorded", annotation: tokenPtr("t2"), handled: "t1", started: true,
			retry: true, handledAfter: "t2"},
		{name: "the handled token does nothing", annotation: tokenPtr("t1"), handled: "t1", started: true, handledAfter: "t1"},
		{name: "a token present when the saga starts is recorded without a retry", annotation: tokenPtr("t1"),
			handledAfter: "t1"},
		{name: "now retries and is removed, every time", annotation: tokenPtr(sagav1.RetryNow), handled: "t1", started: true,
			retry: true, remove: true, handledAfter: "t1"},
		{name: "an empty value is the old one-shot form too", annotation: tokenPtr(""), started: true, retry: true, remove: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &sagav1.Order{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{"other": "x"}}}
			if tc.annotation != nil {
				o.Annotations[sagav1.RetryAnnotation] = *tc.annotation
			}
			handled := tc.handled
			retry, remove := retryRequest(o, &handled, tc.started)
			if retry != tc.retry || remove != tc.remove || handled != tc.handledAfter {
				t.Errorf("retryRequest = retry %v, remove %v, handled %q; want %v, %v, %q",
					retry, remove, handled, tc.retry, tc.remove, tc.handledAfter)
			}
		})
	}
}

func tokenPtr(s string) *string { return &s }

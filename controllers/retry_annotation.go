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
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
)

// retryRequest reads an Order's or a Saga's retry annotation against the last token the
// operator handled, which it updates (it is written with the pass's status, so a token
// is acted on once, across restarts and re-applies by GitOps tools). started is false on
// the saga's first pass: a token already there when the saga starts (a manifest applied
// with it) is recorded without a retry, as nothing has failed yet. The one-shot values of
// older releases (RetryNow, or empty) always retry and ask for the annotation's removal.
func retryRequest(obj client.Object, lastHandled *string, started bool) (retry, remove bool) {
	token, ok := obj.GetAnnotations()[sagav1.RetryAnnotation]
	switch {
	case !ok:
		return false, false
	case token == "" || token == sagav1.RetryNow:
		return true, true
	case token == *lastHandled:
		return false, false
	}
	*lastHandled = token
	return started, false
}

// removeRetryAnnotation takes a one-shot retry annotation off an Order or a Saga once its
// pass has acted on it; the optimistic lock keeps a newer request from being dropped unseen.
func removeRetryAnnotation(ctx context.Context, c client.Client, obj client.Object) error {
	patch := client.MergeFromWithOptions(obj.DeepCopyObject().(client.Object), client.MergeFromWithOptimisticLock{})
	annotations := obj.GetAnnotations()
	delete(annotations, sagav1.RetryAnnotation)
	obj.SetAnnotations(annotations)
	if err := c.Patch(ctx, obj, patch); err != nil {
		return fmt.Errorf("remove retry annotation: %w", err)
	}
	return nil
}

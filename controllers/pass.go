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
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
)

// conflictRequeue is how soon a pass that lost a write conflict runs again.
const conflictRequeue = 50 * time.Millisecond

// runPass runs one reconcile pass's steps over its scope, in order, and stops at the first
// error. A conflict is not a failure: our copy was stale (the cache lags our own writes),
// so the pass starts again soon from the newer version; every call it made is idempotent.
// The error is returned as well, for the pass's span.
func runPass[S any](ctx context.Context, log logr.Logger, s S, steps ...func(context.Context, S) error) (ctrl.Result, error) {
	for _, step := range steps {
		err := step(ctx, s)
		if err == nil {
			continue
		}
		if apierrors.IsConflict(err) {
			log.V(1).Info("object changed during the pass; requeueing", "error", err.Error())
			return ctrl.Result{RequeueAfter: conflictRequeue}, err
		}
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, nil
}

// passResult is what controller-runtime gets from a pass: a conflict requeues without an
// error (no error log, no rate-limited backoff); any other error is returned.
func passResult(res ctrl.Result, err error, done ctrl.Result) (ctrl.Result, error) {
	switch {
	case err == nil:
		return done, nil
	case apierrors.IsConflict(err):
		return res, nil
	}
	return res, err
}

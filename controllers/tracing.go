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

	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubesaga/kubesaga/internal/tracing"
)

// passSpan is the span of one reconcile pass over an Order or a Saga; the participant
// calls of the pass are its children. An Order's saga spans many passes (waits, retries,
// restarts of the operator): each pass continues the trace its first traced pass recorded
// in status (traceParent), so that one Order is one trace, found from its status.traceId.
type passSpan struct{ span trace.Span }

// startPass starts the pass span (named name) of obj, an Order or a Saga (kind),
// continuing the recorded traceparent if any.
func startPass(ctx context.Context, name, kind string, obj client.Object, traceParent, phase string) (context.Context, passSpan) {
	if !tracing.Enabled() {
		return ctx, passSpan{trace.SpanFromContext(context.Background())}
	}
	ctx, span := tracing.Start(tracing.WithTraceparent(ctx, traceParent), name, trace.WithSpanKind(trace.SpanKindInternal))
	if span.IsRecording() {
		span.SetAttributes(semconv.K8SNamespaceName(obj.GetNamespace()), tracing.AttrName.String(obj.GetName()),
			tracing.AttrUID.String(string(obj.GetUID())), tracing.AttrKind.String(kind),
			tracing.AttrPhaseBefore.String(phase))
	}
	return ctx, passSpan{span}
}

// end records the phase and current step the pass left, and the error that ended it.
func (p passSpan) end(phase, step string, err error) {
	if !p.span.IsRecording() {
		return
	}
	p.span.SetAttributes(tracing.AttrPhaseAfter.String(phase), tracing.AttrStep.String(step))
	if apierrors.IsConflict(err) {
		// Not a failure: the copy was stale, and the pass is repeated from the newer one.
		p.span.AddEvent("conflict: requeued")
		err = nil
	}
	tracing.End(p.span, err)
}

// recordTrace sets the trace fields of a status about to be written, once: the pass's
// trace id and traceparent. It rides on a write the pass makes anyway, never one of its own.
func recordTrace(ctx context.Context, traceID, traceParent *string) {
	if !tracing.Enabled() || *traceParent != "" {
		return
	}
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return
	}
	*traceParent = tracing.Traceparent(ctx)
	if sc.IsSampled() {
		*traceID = sc.TraceID().String() // an unsampled trace is in no backend: no id to look for
	}
}

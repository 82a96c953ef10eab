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

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"

	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/kubesaga/kubesaga/internal/tracing"
)

// The outcome classes a call span records as tracing.AttrOutcome: the classes the saga
// engine acts on, and the caller's own cancellation.
const (
	OutcomeSuccess   = "success"
	OutcomeRefusal   = "refusal"
	OutcomeTransient = "transient"
	OutcomeCancelled = "cancelled"
)

// Outcome classifies a call's error as the call span records it.
func Outcome(err error) string {
	var r *Refusal
	switch {
	case err == nil:
		return OutcomeSuccess
	case errors.As(err, &r):
		return OutcomeRefusal
	case IsTransient(err):
		return OutcomeTransient
	default:
		return OutcomeCancelled // the caller gave up (shutdown), or the request could not be built
	}
}

// startCall starts the client span of one call, a child of the span in ctx (the reconcile
// pass); the request built from the returned ctx carries it as its traceparent.
// route is the path's pattern (url.template), "" when unknown.
func startCall(ctx context.Context, op, method, target, route string) (context.Context, trace.Span) {
	if !tracing.Enabled() {
		return ctx, trace.SpanFromContext(context.Background())
	}
	ctx, span := tracing.Start(ctx, op, trace.WithSpanKind(trace.SpanKindClient))
	if span.IsRecording() {
		span.SetAttributes(semconv.HTTPRequestMethodKey.String(method), semconv.URLFull(target))
		if route != "" {
			span.SetAttributes(semconv.URLTemplate(route))
		}
		if u, err := url.Parse(target); err == nil {
			span.SetAttributes(semconv.ServerAddress(u.Hostname()))
			if p, err := strconv.Atoi(u.Port()); err == nil {
				span.SetAttributes(semconv.ServerPort(p))
			}
		}
	}
	return ctx, span
}

// endCall records the answer's status (0: none came) and the outcome class, and ends span.
func endCall(span trace.Span, status int, err error) {
	if !span.IsRecording() {
		return
	}
	if status != 0 {
		span.SetAttributes(semconv.HTTPResponseStatusCode(status))
	}
	span.SetAttributes(tracing.AttrOutcome.String(Outcome(err)))
	tracing.End(span, err)
}

// target is a call's path and the route pattern it was built from, which the call span
// reports (url.template) without the ids that make every path different.
type target struct{ route, path string }

// at fills the {placeholders} of route with args, in order, path-escaped.
func at(route string, args ...string) target {
	var b strings.Builder
	rest := route
	for _, a := range args {
		lb, rb := strings.IndexByte(rest, '{'), strings.IndexByte(rest, '}')
		if lb < 0 || rb < lb {
			panic("participants: route " + route + " has fewer placeholders than arguments") // a programming error
		}
		b.WriteString(rest[:lb])
		b.WriteString(url.PathEscape(a))
		rest = rest[rb+1:]
	}
	b.WriteString(rest)
	return target{route: route, path: b.String()}
}

// withQuery appends an encoded query to the path (not to the route).
func (t target) withQuery(q string) target {
	if q != "" {
		t.path += "?" + q
	}
	return t
}

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

// Package tracing sets up OpenTelemetry traces for the operator and the participant
// services from the standard OTEL_* environment variables, and holds the few helpers
// their instrumentation shares. Tracing is off unless an OTLP endpoint (or
// OTEL_TRACES_EXPORTER=otlp) is configured; off, every helper returns at once without
// allocating, so that the saga's throughput does not pay for it.
package tracing

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/kubesaga/kubesaga/internal/buildinfo"
)

// ScopeName is the instrumentation scope of every span kubesaga starts.
const ScopeName = "github.com/kubesaga/kubesaga"

// Propagator is the W3C trace context and baggage, the propagation of the calls to the
// participants and of their answers.
var Propagator propagation.TextMapPropagator = propagation.NewCompositeTextMapPropagator(
	propagation.TraceContext{}, propagation.Baggage{})

// enabled is read on every instrumented call; off, nothing else is done.
var enabled atomic.Bool

// Enabled reports whether spans are taken (Setup found an exporter, or a test Installed a
// provider).
func Enabled() bool { return enabled.Load() }

// The environment variables Setup reads itself; the SDK and the OTLP exporter read the
// others (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER[_ARG],
// OTEL_EXPORTER_OTLP_[TRACES_]HEADERS, _TIMEOUT, _COMPRESSION, _CERTIFICATE, OTEL_BSP_*).
const (
	EnvSDKDisabled    = "OTEL_SDK_DISABLED"
	EnvTracesExporter = "OTEL_TRACES_EXPORTER"
	EnvEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	EnvProtocol       = "OTEL_EXPORTER_OTLP_PROTOCOL"
	EnvTracesProtocol = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
)

// Wanted decides from the environment whether traces are exported, and refuses what
// kubesaga cannot honour (another exporter, OTLP over gRPC) with the variable's name, so
// that a typo does not silently turn tracing off. Unlike the specification's default
// (otlp), an unset OTEL_TRACES_EXPORTER exports only when an OTLP endpoint is set: a
// plain install sends nothing to a collector that is not there.
func Wanted(getenv func(string) string) (bool, error) {
	if v := strings.TrimSpace(getenv(EnvSDKDisabled)); strings.EqualFold(v, "true") {
		return false, nil
	}
	exporter := strings.ToLower(strings.TrimSpace(getenv(EnvTracesExporter)))
	switch exporter {
	case "none":
		return false, nil
	case "", "otlp":
	default:
		return false, fmt.Errorf("%s=%q: kubesaga exports traces with otlp only (or none)", EnvTracesExporter, exporter)
	}
	endpoint := getenv(EnvEndpoint) != "" || getenv(EnvTracesEndpoint) != ""
	if exporter == "" && !endpoint {
		return false, nil
	}
	for _, key := range []string{EnvTracesProtocol, EnvProtocol} {
		switch p := strings.TrimSpace(getenv(key)); p {
		case "":
			continue
		case "http/protobuf", "http/json":
		default:
			return false, fmt.Errorf("%s=%q: kubesaga exports OTLP over HTTP only (http/protobuf or http/json); "+
				"point the endpoint at the collector's OTLP/HTTP port (4318)", key, p)
		}
		break // the traces-specific variable wins over the general one
	}
	return true, nil
}

// Setup installs the tracer provider the OTEL_* environment asks for, named service
// unless OTEL_SERVICE_NAME says otherwise, and returns the function that flushes and
// stops it (call it on shutdown). With tracing off it installs nothing and the returned
// function does nothing. The SDK's own messages (an export that failed) go to log.
func Setup(ctx context.Context, service string, log logr.Logger) (shutdown func(context.Context) error, err error) {
	none := func(context.Context) error { return nil }
	on, err := Wanted(os.Getenv)
	if err != nil || !on {
		return none, err
	}
	otel.SetLogger(log.WithName("otel"))
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { log.Error(err, "tracing") }))
	exp, err := otlptracehttp.New(ctx) // endpoint, headers, TLS, timeout: from OTEL_EXPORTER_OTLP_*
	if err != nil {
		return none, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	res, err := resource.New(ctx,
		// Later options win: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the defaults.
		resource.WithAttributes(semconv.ServiceName(service), semconv.ServiceVersion(buildinfo.Version)),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
	)
	if err != nil {
		return none, fmt.Errorf("tracing: resource from %s: %w", "OTEL_RESOURCE_ATTRIBUTES", err)
	}
	// No WithSampler: the SDK reads OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG itself
	// (default parentbased_always_on).
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	restore := Install(tp)
	return func(ctx context.Context) error {
		restore()
		if err := tp.Shutdown(ctx); err != nil { // flushes the batch of ended spans
			return fmt.Errorf("tracing: flush spans: %w", err)
		}
		return nil
	}, nil
}

// flushTimeout bounds the export of the last spans on shutdown.
const flushTimeout = 5 * time.Second

// Flush calls the shutdown function Setup returned, with its own deadline: the process's
// context is already done when it runs.
func Flush(shutdown func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	defer cancel()
	return shutdown(ctx)
}

// Install makes tp the global tracer provider, with W3C propagation, and turns the
// instrumentation on; restore turns it off again. Setup uses it, and tests install a
// provider that records in memory.
func Install(tp trace.TracerProvider) (restore func()) {
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(Propagator)
	enabled.Store(true)
	return func() {
		enabled.Store(false)
		otel.SetTracerProvider(noop.NewTracerProvider())
	}
}

// nonRecording is what Start returns while tracing is off, boxed once.
var nonRecording trace.Span = noop.Span{}

// Start starts a span as a child of the span in ctx when tracing is on; off, it returns
// ctx and a span that records nothing, without allocating. Callers add attributes after
// checking span.IsRecording(), so that they build none while off.
func Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if !enabled.Load() {
		return ctx, nonRecording
	}
	// The current global provider, looked up now: a tracer taken earlier would stay bound
	// to the first provider ever installed.
	return otel.GetTracerProvider().Tracer(ScopeName).Start(ctx, name, opts...)
}

// Inject writes the trace context of ctx into carrier (an outgoing request's headers).
func Inject(ctx context.Context, carrier propagation.TextMapCarrier) {
	if enabled.Load() {
		Propagator.Inject(ctx, carrier)
	}
}

// traceparentKey is the W3C header that carries a span context.
const traceparentKey = "traceparent"

// Traceparent returns the W3C traceparent of the span in ctx, "" when it has none.
func Traceparent(ctx context.Context) string {
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, c)
	return c[traceparentKey]
}

// WithTraceparent returns ctx with the span context a traceparent recorded earlier as its
// remote parent, so that the spans started from it continue that trace; an empty or
// malformed value leaves ctx as it is (a new trace starts).
func WithTraceparent(ctx context.Context, traceparent string) context.Context {
	if traceparent == "" || !enabled.Load() {
		return ctx
	}
	return propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{traceparentKey: traceparent})
}

// SpanSQLiteTx names the span of a participant's write transaction.
const SpanSQLiteTx = "sqlite.tx"

// StartSQLiteTx starts the span of one write transaction on the SQLite database file db
// (its base name), as a child of the request's server span in ctx.
func StartSQLiteTx(ctx context.Context, db string) (context.Context, trace.Span) {
	if !enabled.Load() {
		return ctx, nonRecording
	}
	return Start(ctx, SpanSQLiteTx, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		semconv.DBSystemNameSQLite,
		attribute.String("db.system", "sqlite"), // the name before semantic conventions 1.26, which many backends still query
		semconv.DBNamespace(db),
		semconv.DBOperationName("TRANSACTION"),
	))
}

// End ends span, marking it failed with err when err is not nil.
func End(span trace.Span, err error) {
	if !span.IsRecording() {
		return
	}
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// Attributes of kubesaga's own spans (the HTTP and database ones follow the semantic
// conventions). Trace queries use them: e.g. kubesaga.uid = an Order's UID.
const (
	// AttrKind is the kind of the resource a reconcile pass works on: Order or Saga.
	AttrKind = attribute.Key("kubesaga.kind")
	// AttrName and AttrUID name the resource (its namespace is k8s.namespace.name).
	AttrName = attribute.Key("kubesaga.name")
	AttrUID  = attribute.Key("kubesaga.uid")
	// AttrPhaseBefore and AttrPhaseAfter are the resource's phase before and after the pass.
	AttrPhaseBefore = attribute.Key("kubesaga.phase.before")
	AttrPhaseAfter  = attribute.Key("kubesaga.phase.after")
	// AttrStep is the saga's current step after the pass (empty when none is in flight).
	AttrStep = attribute.Key("kubesaga.step")
	// AttrOutcome is a participant call's class: success, refusal, transient or cancelled.
	AttrOutcome = attribute.Key("kubesaga.outcome")
)

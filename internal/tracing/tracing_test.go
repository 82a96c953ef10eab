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

package tracing_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/kubesaga/kubesaga/internal/tracing"
)

// clearEnv unsets every OTEL_* variable tracing or the SDK reads, for this test.
func clearEnv(t *testing.T) {
	for _, k := range []string{tracing.EnvSDKDisabled, tracing.EnvTracesExporter, tracing.EnvEndpoint, tracing.EnvTracesEndpoint,
		tracing.EnvProtocol, tracing.EnvTracesProtocol, "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_TRACES_SAMPLER"} {
		t.Setenv(k, "")
	}
}

func TestNoEnvironmentIsANoOp(t *testing.T) {
	clearEnv(t)
	shutdown, err := tracing.Setup(context.Background(), "test", logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	if tracing.Enabled() {
		t.Fatal("tracing is on without any OTEL_* variable")
	}
	if _, ok := otel.GetTracerProvider().(*sdktrace.TracerProvider); ok {
		t.Fatal("an SDK tracer provider was installed without any OTEL_* variable")
	}
	ctx, span := tracing.Start(context.Background(), "pass")
	if span.IsRecording() || span.SpanContext().IsValid() || tracing.Traceparent(ctx) != "" {
		t.Fatalf("the span records or carries a trace: %v", span.SpanContext())
	}
	h := http.Header{}
	tracing.Inject(ctx, propagation.HeaderCarrier(h))
	if len(h) != 0 {
		t.Fatalf("headers injected while off: %v", h)
	}
	// Off, the instrumentation allocates nothing on the saga's hot path.
	allocs := testing.AllocsPerRun(100, func() {
		c, s := tracing.Start(ctx, "pass")
		_, tx := tracing.StartSQLiteTx(c, "db")
		tracing.End(tx, nil)
		tracing.End(s, nil)
		tracing.Inject(c, propagation.HeaderCarrier(h))
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per pass while off, want 0", allocs)
	}
	if err := shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestWanted(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		want    bool
		wantErr string
	}{
		{name: "nothing set", env: nil, want: false},
		{name: "endpoint", env: map[string]string{tracing.EnvEndpoint: "http://otel:4318"}, want: true},
		{name: "traces endpoint", env: map[string]string{tracing.EnvTracesEndpoint: "http://otel:4318/v1/traces"}, want: true},
		{name: "exporter otlp, default endpoint", env: map[string]string{tracing.EnvTracesExporter: "otlp"}, want: true},
		{name: "exporter none", env: map[string]string{tracing.EnvTracesExporter: "none", tracing.EnvEndpoint: "http://otel:4318"}},
		{name: "sdk disabled", env: map[string]string{tracing.EnvSDKDisabled: "true", tracing.EnvEndpoint: "http://otel:4318"}},
		{name: "sdk not disabled", env: map[string]string{tracing.EnvSDKDisabled: "false", tracing.EnvEndpoint: "http://otel:4318"}, want: true},
		{name: "http/json", env: map[string]string{tracing.EnvEndpoint: "http://otel:4318", tracing.EnvProtocol: "http/json"}, want: true},
		{name: "another exporter", env: map[string]string{tracing.EnvTracesExporter: "zipkin"}, wantErr: "OTEL_TRACES_EXPORTER"},
		{name: "grpc", env: map[string]string{tracing.EnvEndpoint: "http://otel:4317", tracing.EnvProtocol: "grpc"},
			wantErr: "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{name: "traces protocol wins", env: map[string]string{tracing.EnvEndpoint: "http://otel:4318",
			tracing.EnvProtocol: "grpc", tracing.EnvTracesProtocol: "http/protobuf"}, want: true},
		{name: "grpc for traces", env: map[string]string{tracing.EnvEndpoint: "http://otel:4317", tracing.EnvTracesProtocol: "grpc"},
			wantErr: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"},
		{name: "grpc while off", env: map[string]string{tracing.EnvProtocol: "grpc"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := tracing.Wanted(func(k string) string { return c.env[k] })
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, c.wantErr)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("Wanted = %v, %v; want %v", got, err, c.want)
			}
		})
	}
}

// TestSetupExportsAndFlushes points the exporter at a real OTLP/HTTP receiver: the span
// ended just before shutdown arrives, with the service name from OTEL_SERVICE_NAME and the
// attributes of OTEL_RESOURCE_ATTRIBUTES.
func TestSetupExportsAndFlushes(t *testing.T) {
	var mu sync.Mutex
	var got []*coltrace.ExportTraceServiceRequest
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		req := &coltrace.ExportTraceServiceRequest{}
		if err != nil || r.URL.Path != "/v1/traces" || proto.Unmarshal(body, req) != nil {
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, req)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()

	clearEnv(t)
	t.Setenv(tracing.EnvEndpoint, collector.URL)
	t.Setenv("OTEL_SERVICE_NAME", "kubesaga-test")
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=ci")
	shutdown, err := tracing.Setup(context.Background(), "kubesaga", logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	if !tracing.Enabled() {
		t.Fatal("an endpoint is set, yet tracing is off")
	}
	ctx, span := tracing.Start(context.Background(), "pass")
	if tp := tracing.Traceparent(ctx); !strings.HasPrefix(tp, "00-"+span.SpanContext().TraceID().String()) {
		t.Fatalf("traceparent %q does not carry the span's trace", tp)
	}
	span.End()
	if err := tracing.Flush(shutdown); err != nil {
		t.Fatal(err)
	}
	if tracing.Enabled() {
		t.Fatal("tracing still on after shutdown")
	}

	mu.Lock()
	defer mu.Unlock()
	if len(got) == 0 {
		t.Fatal("no export reached the collector")
	}
	rs := got[0].GetResourceSpans()[0]
	res := map[string]string{}
	for _, kv := range rs.GetResource().GetAttributes() {
		res[kv.GetKey()] = kv.GetValue().GetStringValue()
	}
	if res["service.name"] != "kubesaga-test" || res["deployment.environment.name"] != "ci" {
		t.Fatalf("resource %v: want service.name from OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES", res)
	}
	spans := rs.GetScopeSpans()[0].GetSpans()
	if len(spans) != 1 || spans[0].GetName() != "pass" {
		t.Fatalf("spans %v, want the one pass span", spans)
	}
}

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

// Package buildinfo tells which build of kubesaga runs: a version stamped at link time
// and the VCS revision Go records, exported as kubesaga_build_info{version,revision,goversion}.
package buildinfo

import (
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// Version is set at link time: -ldflags "-X github.com/kubesaga/kubesaga/internal/buildinfo.Version=v0.1.0".
var Version = "dev"

// Revision is the VCS revision Go embedded in the binary ("unknown" without one).
func Revision() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}

// MetricName is the build info metric, 1 with the build's labels (Prometheus' convention).
const MetricName = "kubesaga_build_info"

// Collector returns a new gauge kubesaga_build_info{version,revision,goversion} = 1.
func Collector() prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: MetricName,
		Help: "A metric with a constant '1' value labelled by the kubesaga version, VCS revision and Go version it was built with.",
		ConstLabels: prometheus.Labels{
			"version": Version, "revision": Revision(), "goversion": runtime.Version(),
		},
	})
	g.Set(1)
	return g
}

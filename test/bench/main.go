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

// Command bench measures kubesaga against its floor in one run on this machine (issues 7
// and 12): the API server's create rate with client throttling off, the same saga driven
// directly by internal/saga against the same services, the peer dtm (built from its own
// module, test/bench/peer) against an in-memory participant, and kubesaga itself (the
// manager as a child process) at peak and at a steady rate, with refusals, against the
// real services and against an in-memory participant.
//
//	make bench N=500        # or: KUBEBUILDER_ASSETS=$(hack/envtest.sh --path) go run ./test/bench -n 500
//
// It prints one table and writes docs/benchmarks.md and docs/benchmarks.json.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/kubesaga/kubesaga/controllers"
)

type config struct {
	N            int
	Conc         int
	QPS          float64
	Burst        int
	RefusedPct   int
	SteadyFactor float64
	Steps1       bool
	CRDDir       string
	OutMD        string
	OutJSON      string
	WorkDir      string
	Warmup       int
}

func main() {
	defaults := controllers.ManagerOptions{}
	defaults.BindFlags(flag.NewFlagSet("defaults", flag.ContinueOnError))

	var c config
	flag.IntVar(&c.N, "n", 2000, "Orders per kubesaga scenario (and objects/sagas for the raw and direct baselines)")
	flag.IntVar(&c.Conc, "concurrency", defaults.MaxConcurrentReconciles,
		"concurrency of the load and of the manager (--max-concurrent-reconciles)")
	flag.Float64Var(&c.QPS, "qps", defaults.KubeAPIQPS, "client QPS, for the load client and the manager (--kube-api-qps)")
	flag.IntVar(&c.Burst, "burst", defaults.KubeAPIBurst, "client burst, for the load client and the manager (--kube-api-burst)")
	flag.IntVar(&c.RefusedPct, "refused-pct", 20, "percentage of refused Orders in the compensation scenario")
	flag.Float64Var(&c.SteadyFactor, "steady-factor", 0.5, "steady rate as a fraction of the measured peak")
	flag.BoolVar(&c.Steps1, "steps1", false, "also run the peak scenario with --max-steps-per-pass=1 (issue 7's comparison)")
	flag.StringVar(&c.CRDDir, "crd-dir", "config/crd/bases", "CRD manifests to install")
	flag.StringVar(&c.OutMD, "md", "docs/benchmarks.md", "Markdown report to write (empty: none)")
	flag.StringVar(&c.OutJSON, "json", "docs/benchmarks.json", "JSON report to write (empty: none)")
	flag.StringVar(&c.WorkDir, "dir", "", "work directory for SQLite files, logs and profiles (default: a new temp dir, kept)")
	flag.IntVar(&c.Warmup, "warmup", 20, "Orders run after each manager start before measuring")
	flag.Parse()
	log.SetFlags(log.Ltime)
	ctrl.SetLogger(logr.Discard())

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	rep, err := run(ctx, c, defaults)
	if err != nil {
		log.Fatalf("bench: %v", err)
	}
	fmt.Print(rep.table())
	if c.OutMD != "" {
		if err := os.WriteFile(c.OutMD, []byte(rep.markdown()), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	if c.OutJSON != "" {
		b, _ := json.MarshalIndent(rep.json(), "", "  ")
		if err := os.WriteFile(c.OutJSON, append(b, '\n'), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// run runs the benchmark's phases in order; each measures into the report.
func run(ctx context.Context, c config, defaults controllers.ManagerOptions) (*report, error) {
	b := &bench{c: c, defaults: defaults, rep: &report{cfg: c, started: time.Now(), defaultSteps: defaults.MaxStepsPerPass,
		prev: readPrevious(c.OutJSON), loadStart: loadAvg(), others: otherProcesses()}}
	defer b.close()
	for _, phase := range []func(context.Context) error{b.setUp, b.rawFloor, b.directBaseline, b.peerBaseline, b.kubesaga} {
		if err := phase(ctx); err != nil {
			return nil, err
		}
	}
	b.rep.finished, b.rep.loadEnd = time.Now(), loadAvg()
	return b.rep, nil
}

func rateText(r float64) string {
	if r <= 0 {
		return "as fast as possible"
	}
	return fmt.Sprintf("%.1f/s", r)
}

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

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

type memSample struct {
	Orders      int     `json:"orders_in_cluster"`
	What        string  `json:"when"`
	RSSMB       float64 `json:"rss_mb"`
	HeapInuseMB float64 `json:"live_heap_mb"`
}

type report struct {
	cfg               config
	started, finished time.Time
	dir, managerBin   string
	defaultSteps      int

	rawCM                 float64 // throttled (client QPS/burst), N creates
	floor, floorOrders    floorResult
	floorWindows          []floorResult // the floor's windows: at the start, before and after the peak run
	peer, peerRefused     peerResult
	statusBytes           float64
	managedFields         []string
	direct, directRefused directResult
	runs                  []runResult
	memory                []memSample
	orderJSONBytes        float64
	writes                writeRates
	cachedOrderBytes      float64

	profileSecs              int
	cpuProfile, allocProfile string
	cpuTop, cpuCum, allocTop string
	apiProfile               string
	apiTop                   []string
	apiCreateTop             []string

	prev               previousRun // the report this run replaces, for comparison
	loadStart, loadEnd string      // /proc/loadavg: what else ran on the machine
	others             string      // the busiest other processes when the run started
}

// designFloor is the Orders/s the API server allows for the writes the peak run made,
// from the rate of each kind of write measured alone: creates at the unthrottled Order
// create rate, metadata patches, status patches and status updates at their measured rates, Events at the
// unthrottled ConfigMap create rate (a small built-in object).
func (rep *report) designFloor() float64 {
	w, peak := rep.writes, rep.find("peak")
	if w.StatusMergePatch == 0 || w.StatusUpdate == 0 || w.MetaMergePatch == 0 || rep.floorOrders.PerS == 0 || rep.floor.PerS == 0 {
		return 0
	}
	meta := peak.WritesByKind["orders PATCH 200"]
	patches, updates := peak.WritesByKind["orders/status PATCH 200"], peak.WritesByKind["orders/status PUT 200"]
	return 1 / (1/rep.floorOrders.PerS + meta/w.MetaMergePatch + patches/w.StatusMergePatch + updates/w.StatusUpdate +
		peak.EventWritesPerOrder/rep.floor.PerS)
}

// floorTargetReason says, when the floor target is missed, what limits the run: the
// writes an Order costs (the per-kind estimate is what even a coordinator that waited for
// nothing would get from this API server with these writes), or else the machine's CPU,
// which the API server, etcd, the manager, the participants and the load share.
func (rep *report) floorTargetReason() string {
	peak := rep.find("peak")
	f, target := rep.designFloor(), 0.08*rep.floor.PerS
	if f == 0 || peak.OrdersPerS >= target {
		return ""
	}
	if f < target {
		return fmt.Sprintf(": the API server's own rates for the writes an Order costs allow about %.1f Orders/s "+
			"(%.3f × the floor), below the target whatever the manager does; "+
			"it needs fewer or cheaper writes per Order (see Next steps)", f, f/rep.floor.PerS)
	}
	total := peak.machineCPUPer1000()
	cores := total * peak.OrdersPerS / 1000
	return fmt.Sprintf(": the API server's own rates for these writes would allow about %.1f Orders/s, but the machine's CPU is spent: "+
		"an Order took %.1f CPU seconds per 1000 (kube-apiserver %.1f, etcd %.1f, manager %.1f, participants and load %.1f), "+
		"%.2f of the %d cores at %.1f Orders/s; at the target rate %d cores allow %.1f per 1000 (see Findings)",
		f, total, peak.APIServerCPUPer1000, peak.EtcdCPUPer1000, peak.ManagerCPUPer1000, peak.BenchCPUPer1000,
		cores, runtime.NumCPU(), peak.OrdersPerS, runtime.NumCPU(), float64(runtime.NumCPU())*1000/target)
}

// machineCPUPer1000 is the CPU seconds per 1000 Orders of every process of the run.
func (r *runResult) machineCPUPer1000() float64 {
	return r.APIServerCPUPer1000 + r.EtcdCPUPer1000 + r.ManagerCPUPer1000 + r.BenchCPUPer1000
}

// loadVerdict reads the 1-minute load average the run started with: at or above the
// number of cores, other work shared the machine and only the ratios of one run compare.
func loadVerdict(loadStart string) string {
	first, _, _ := strings.Cut(loadStart, " ")
	if l, err := strconv.ParseFloat(first, 64); err == nil && l >= float64(runtime.NumCPU()) {
		return "**Shared and busy**: other work ran when the run started; compare the ratios of one run, not absolute numbers across runs."
	}
	return "Compare the ratios of one run, not absolute numbers across machines."
}

func (rep *report) find(name string) *runResult {
	for i := range rep.runs {
		if rep.runs[i].Name == name {
			return &rep.runs[i]
		}
	}
	return &runResult{}
}

//nolint:lll // table rows are long by nature
func (rep *report) table() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "scenario\tN\trefused\tsteps/pass\toffered/s\tdone/s\tp50 ms\tp95 ms\tp99 ms\twrites/Order\tEvent writes/Order\t409/Order\tmgr CPU s/1000\tmgr RSS MB (peak)\t")
	fmt.Fprintf(w, "floor: ConfigMap creates, unthrottled, %d×%s\t%d\t\t\t\t%.1f\t\t\t\t1\t\t\t\t\t\n", len(rep.floorWindows), floorWindow, rep.floor.Created, rep.floor.PerS)
	fmt.Fprintf(w, "Order creates, unthrottled, no controller, %s\t%d\t\t\t\t%.1f\t\t\t\t1\t\t\t\t\t\n", floorWindow, rep.floorOrders.Created, rep.floorOrders.PerS)
	fmt.Fprintf(w, "ConfigMap creates, THROTTLED QPS %g burst %d\t%d\t\t\t\t%.1f\t\t\t\t1\t\t\t\t\t\n", rep.cfg.QPS, rep.cfg.Burst, rep.cfg.N, rep.rawCM)
	fmt.Fprintf(w, "direct saga (no Kubernetes)\t%d\t0%%\t\t\t%.1f\t%.0f\t%.0f\t%.0f\t0\t\t\t\t\t\n", rep.cfg.N, rep.direct.SagasPerS, rep.direct.P50, rep.direct.P95, rep.direct.P99)
	fmt.Fprintf(w, "direct saga, refusals\t%d\t%d%%\t\t\t%.1f\t%.0f\t%.0f\t%.0f\t0\t\t\t\t\t\n", rep.cfg.N, rep.cfg.RefusedPct, rep.directRefused.SagasPerS, rep.directRefused.P50, rep.directRefused.P95, rep.directRefused.P99)
	for _, r := range []peerResult{rep.peer, rep.peerRefused} {
		fmt.Fprintf(w, "peer: dtm %s, in-memory participant\t%d\t%d%%\t\t\t%.1f\t%.0f\t%.0f\t%.0f\t\t\t\t%.2f (dtm)\t\t\n", peerVersion, r.N, r.RefusedPct, r.SagasPerS, r.P50, r.P95, r.P99, r.CPUPer1000)
	}
	for _, r := range rep.runs {
		offered := "max"
		if r.RatePerS > 0 {
			offered = fmt.Sprintf("%.1f", r.RatePerS)
		}
		fmt.Fprintf(w, "kubesaga %s\t%d\t%d%%\t%d\t%s\t%.1f\t%.0f\t%.0f\t%.0f\t%.2f\t%.2f\t%.3f\t%.2f\t%.0f (%.0f)\t\n",
			r.Name, r.N, r.RefusedPct, r.StepsPerPass, offered, r.OrdersPerS, r.P50, r.P95, r.P99,
			r.OrderWritesPerOrder, r.EventWritesPerOrder, r.ConflictsPerOrder, r.ManagerCPUPer1000, r.ManagerRSSMB, r.ManagerHWMMB)
	}
	_ = w.Flush()
	return b.String()
}

//nolint:lll // one key per line
func (rep *report) json() map[string]any {
	peak, steady, inmem := rep.find("peak"), rep.find("steady"), rep.find("inmem")
	hwm := 0.0
	for _, r := range rep.runs {
		if r.StepsPerPass == rep.defaultSteps {
			hwm = max(hwm, r.ManagerHWMMB)
		}
	}
	return map[string]any{
		"raw_creates_per_s":               round(rep.floor.PerS, 1),
		"direct_sagas_per_s":              round(rep.direct.SagasPerS, 1),
		"orders_per_s":                    round(peak.OrdersPerS, 1),
		"p50_ms":                          round(steady.P50, 0),
		"p95_ms":                          round(steady.P95, 0),
		"p99_ms":                          round(steady.P99, 0),
		"writes_per_order":                round(peak.OrderWritesPerOrder, 2),
		"manager_cpu_s_per_1000":          round(peak.ManagerCPUPer1000, 2),
		"manager_peak_rss_mb":             round(hwm, 0),
		"events_per_order":                round(peak.EventWritesPerOrder, 2),
		"peer_sagas_per_s":                round(rep.peer.SagasPerS, 1),
		"orders_per_s_inmemory":           round(inmem.OrdersPerS, 1),
		"status_bytes":                    round(rep.statusBytes, 0),
		"raw_object":                      fmt.Sprintf("ConfigMap, created with client-side throttling off at concurrency %d, pooled over windows of %s at the start, before and after kubesaga's peak run (raw_creates_per_s; each in raw_creates_windows); raw_creates_per_s_throttled: N creates through a client with the manager's QPS/burst", rep.cfg.Conc, floorWindow),
		"raw_creates_windows":             rep.floorWindows,
		"raw_creates_per_s_throttled":     round(rep.rawCM, 1),
		"raw_order_creates_per_s":         round(rep.floorOrders.PerS, 1),
		"raw_creates_per_s_unthrottled":   round(rep.floor.PerS, 1),
		"ratio_orders_to_raw":             round(peak.OrdersPerS/rep.floor.PerS, 3),
		"ratio_orders_to_direct":          round(peak.OrdersPerS/rep.direct.SagasPerS, 3),
		"ratio_inmemory_to_peer":          round(inmem.OrdersPerS/rep.peer.SagasPerS, 3),
		"ratio_inmemory_to_peer_refused":  round(rep.find("inmem-refused").OrdersPerS/rep.peerRefused.SagasPerS, 3),
		"peer":                            map[string]any{"name": "dtm", "version": peerVersion, "store": "boltdb (default)", "runs": []peerResult{rep.peer, rep.peerRefused}},
		"peer_refused_sagas_per_s":        round(rep.peerRefused.SagasPerS, 1),
		"orders_per_s_inmemory_refused":   round(rep.find("inmem-refused").OrdersPerS, 1),
		"managed_fields":                  rep.managedFields,
		"latency_run":                     "p50/p95/p99_ms: create->Succeeded at the steady rate (steady_factor x peak)",
		"peak_p99_ms":                     round(peak.P99, 0),
		"direct_refused_sagas_per_s":      round(rep.directRefused.SagasPerS, 1),
		"event_writes_per_order":          round(peak.EventWritesPerOrder, 2),
		"apiserver_cpu_s_per_1000":        round(peak.APIServerCPUPer1000, 2),
		"etcd_cpu_s_per_1000":             round(peak.EtcdCPUPer1000, 2),
		"bench_process_cpu_s_per_1000":    round(peak.BenchCPUPer1000, 2),
		"n":                               rep.cfg.N,
		"concurrency":                     rep.cfg.Conc,
		"qps":                             rep.cfg.QPS,
		"burst":                           rep.cfg.Burst,
		"steady_factor":                   rep.cfg.SteadyFactor,
		"date":                            rep.started.UTC().Format(time.RFC3339),
		"machine":                         machine(),
		"load_average":                    map[string]string{"start": rep.loadStart, "end": rep.loadEnd},
		"previous":                        rep.prev,
		"runs":                            rep.runs,
		"memory":                          rep.memory,
		"order_write_rates":               rep.writes,
		"api_estimate_orders_per_s":       round(rep.designFloor(), 1),
		"ratio_orders_to_api_estimate":    round(peak.OrdersPerS/max(rep.designFloor(), 1e-9), 3),
		"ratio_orders_to_raw_orders":      round(peak.OrdersPerS/rep.floorOrders.PerS, 3),
		"ratio_orders_to_raw_unthrottled": round(peak.OrdersPerS/rep.floor.PerS, 3),
		"cached_order_bytes":              round(rep.cachedOrderBytes, 0),
		"order_json_bytes":                round(rep.orderJSONBytes, 0),
	}
}

// previousRun is what the report compares with: the figures of the run it replaces.
type previousRun struct {
	Date                string  `json:"date"`
	N                   int     `json:"n"`
	OrdersPerS          float64 `json:"orders_per_s"`
	WritesPerOrder      float64 `json:"writes_per_order"`
	EventWritesPerOrder float64 `json:"event_writes_per_order"`
	ManagerCPUPer1000   float64 `json:"manager_cpu_s_per_1000"`
	ManagerPeakRSSMB    float64 `json:"manager_peak_rss_mb"`
	OrderJSONBytes      float64 `json:"order_json_bytes"`
	PeakRunRSSMB        float64 `json:"peak_run_rss_mb"`
	FloorPerS           float64 `json:"raw_creates_per_s"`
}

// readPrevious reads the report about to be replaced (nothing when there is none).
func readPrevious(path string) previousRun {
	var p previousRun
	raw, err := os.ReadFile(path)
	if err != nil {
		return p
	}
	_ = json.Unmarshal(raw, &p)
	var runs struct {
		Runs []runResult `json:"runs"`
	}
	_ = json.Unmarshal(raw, &runs)
	for _, r := range runs.Runs {
		if r.Name == "peak" {
			p.PeakRunRSSMB = r.ManagerHWMMB
		}
	}
	return p
}

// loadAvg is /proc/loadavg's first three fields.
func loadAvg() string {
	raw, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// otherProcesses names the busiest processes of the machine by CPU (ps), the bench's
// own excluded, to say what else was running.
func otherProcesses() string {
	out, err := exec.Command("ps", "-eo", "pcpu,comm", "--sort=-pcpu", "--no-headers").Output()
	if err != nil {
		return "unknown"
	}
	count := map[string]int{}
	var order []string
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 || f[1] == "bench" || f[1] == "ps" {
			continue
		}
		if count[f[1]] == 0 {
			order = append(order, f[1])
		}
		count[f[1]]++
		if len(order) == 8 {
			break
		}
	}
	parts := make([]string, 0, len(order))
	for _, n := range order {
		parts = append(parts, fmt.Sprintf("%s ×%d", n, count[n]))
	}
	return strings.Join(parts, ", ")
}

func round(v float64, places int) float64 {
	p := 1.0
	for range places {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}

func machine() string {
	return fmt.Sprintf("%d CPUs (%s), %s %s/%s", runtime.NumCPU(), cpuModel(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func metNot(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**not met**"
}

// writeKinds lists the per-Order write counts of a run, largest first.
func writeKinds(r *runResult) string {
	type kv struct {
		k string
		v float64
	}
	var kvs []kv
	for k, v := range r.WritesByKind {
		if strings.HasPrefix(k, "orders") || strings.HasPrefix(k, "events") {
			kvs = append(kvs, kv{k, v})
		}
	}
	slices.SortFunc(kvs, func(a, b kv) int {
		if a.v != b.v {
			if a.v > b.v {
				return -1
			}
			return 1
		}
		return strings.Compare(a.k, b.k)
	})
	var b strings.Builder
	b.WriteString("| resource, verb, code | per Order |\n|---|---:|\n")
	for _, x := range kvs {
		fmt.Fprintf(&b, "| `%s` | %.3f |\n", x.k, x.v)
	}
	return b.String()
}

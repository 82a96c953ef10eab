package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"slices"
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

	rawCM, rawOrders, rawCMUnthrottled float64
	direct, directRefused              directResult
	runs                               []runResult
	memory                             []memSample
	orderJSONBytes                     float64
	writes                             writeRates
	cachedOrderBytes                   float64

	profileSecs              int
	cpuProfile, allocProfile string
	cpuTop, cpuCum, allocTop string
	apiProfile               string
	apiTop                   []string
	apiCreateTop             []string
}

// designFloor is the Orders/s the API server allows for this design, from the rates of
// each kind of write measured alone: 1 create + 2 metadata patches (finalizer add and
// removal) + 2 status patches (pivot checkpoint, final) + the Event creates.
func (rep *report) designFloor() float64 {
	w, peak := rep.writes, rep.find("peak")
	if w.StatusMergePatch == 0 || w.MetaMergePatch == 0 || rep.rawOrders == 0 || rep.rawCMUnthrottled == 0 {
		return 0
	}
	return 1 / (1/rep.rawOrders + 2/w.MetaMergePatch + 2/w.StatusMergePatch + peak.EventWritesPerOrder/rep.rawCMUnthrottled)
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
	fmt.Fprintf(w, "raw ConfigMap creates\t%d\t\t\t\t%.1f\t\t\t\t1\t\t\t\t\t\n", rep.cfg.N, rep.rawCM)
	fmt.Fprintf(w, "raw Order creates (no controller)\t%d\t\t\t\t%.1f\t\t\t\t1\t\t\t\t\t\n", rep.cfg.N, rep.rawOrders)
	fmt.Fprintf(w, "raw ConfigMap creates, unthrottled\t%d\t\t\t\t%.1f\t\t\t\t1\t\t\t\t\t\n", rep.cfg.N, rep.rawCMUnthrottled)
	fmt.Fprintf(w, "direct saga (no Kubernetes)\t%d\t0%%\t\t\t%.1f\t%.0f\t%.0f\t%.0f\t0\t\t\t\t\t\n", rep.cfg.N, rep.direct.SagasPerS, rep.direct.P50, rep.direct.P95, rep.direct.P99)
	fmt.Fprintf(w, "direct saga, refusals\t%d\t%d%%\t\t\t%.1f\t%.0f\t%.0f\t%.0f\t0\t\t\t\t\t\n", rep.cfg.N, rep.cfg.RefusedPct, rep.directRefused.SagasPerS, rep.directRefused.P50, rep.directRefused.P95, rep.directRefused.P99)
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

func (rep *report) json() map[string]any {
	peak, steady := rep.find("peak"), rep.find("steady")
	hwm := 0.0
	for _, r := range rep.runs {
		if r.StepsPerPass == rep.defaultSteps {
			hwm = max(hwm, r.ManagerHWMMB)
		}
	}
	return map[string]any{
		"raw_creates_per_s":               round(rep.rawCM, 1),
		"direct_sagas_per_s":              round(rep.direct.SagasPerS, 1),
		"orders_per_s":                    round(peak.OrdersPerS, 1),
		"p50_ms":                          round(steady.P50, 0),
		"p95_ms":                          round(steady.P95, 0),
		"p99_ms":                          round(steady.P99, 0),
		"writes_per_order":                round(peak.OrderWritesPerOrder, 2),
		"manager_cpu_s_per_1000":          round(peak.ManagerCPUPer1000, 2),
		"manager_peak_rss_mb":             round(hwm, 0),
		"raw_object":                      "ConfigMap, created through a client with the manager's QPS/burst at the same concurrency",
		"raw_order_creates_per_s":         round(rep.rawOrders, 1),
		"raw_creates_per_s_unthrottled":   round(rep.rawCMUnthrottled, 1),
		"ratio_orders_to_raw":             round(peak.OrdersPerS/rep.rawCM, 3),
		"ratio_orders_to_direct":          round(peak.OrdersPerS/rep.direct.SagasPerS, 3),
		"latency_run":                     "p50/p95/p99_ms: create->Succeeded at the steady rate (steady_factor x peak)",
		"peak_p99_ms":                     round(peak.P99, 0),
		"direct_refused_sagas_per_s":      round(rep.directRefused.SagasPerS, 1),
		"event_writes_per_order":          round(peak.EventWritesPerOrder, 2),
		"n":                               rep.cfg.N,
		"concurrency":                     rep.cfg.Conc,
		"qps":                             rep.cfg.QPS,
		"burst":                           rep.cfg.Burst,
		"steady_factor":                   rep.cfg.SteadyFactor,
		"date":                            rep.started.UTC().Format(time.RFC3339),
		"machine":                         machine(),
		"runs":                            rep.runs,
		"memory":                          rep.memory,
		"order_write_rates":               rep.writes,
		"api_estimate_orders_per_s":       round(rep.designFloor(), 1),
		"ratio_orders_to_api_estimate":    round(peak.OrdersPerS/max(rep.designFloor(), 1e-9), 3),
		"ratio_orders_to_raw_orders":      round(peak.OrdersPerS/rep.rawOrders, 3),
		"ratio_orders_to_raw_unthrottled": round(peak.OrdersPerS/rep.rawCMUnthrottled, 3),
		"cached_order_bytes":              round(rep.cachedOrderBytes, 0),
		"order_json_bytes":                round(rep.orderJSONBytes, 0),
	}
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

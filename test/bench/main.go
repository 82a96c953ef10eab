// Command bench measures kubesaga against its floor in one run on this machine (issue 7):
// the API server's raw create rate, the same saga driven directly by internal/saga
// against the same services, and kubesaga itself (the manager as a child process) at
// peak and at a steady rate, with refusals, and with one step per reconcile pass.
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
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/controllers"
	"github.com/kubesaga/kubesaga/internal/dev/binaries"
	"github.com/kubesaga/kubesaga/internal/dev/controlplane"
	"github.com/kubesaga/kubesaga/internal/dev/inprocess"
	"github.com/kubesaga/kubesaga/internal/participants"
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
	flag.BoolVar(&c.Steps1, "steps1", true, "also run the peak scenario with --max-steps-per-pass=1")
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

//nolint:gocyclo,lll // one linear script of the benchmark's phases, in order
func run(ctx context.Context, c config, defaults controllers.ManagerOptions) (*report, error) {
	rep := &report{cfg: c, started: time.Now(), defaultSteps: defaults.MaxStepsPerPass}
	dir := c.WorkDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "kubesaga-bench-"); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	rep.dir = dir
	log.Printf("work dir %s", dir)

	log.Printf("building ./cmd/manager")
	if err := binaries.Build(ctx, dir, binaries.Manager); err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, binaries.Manager)
	rep.managerBin = bin

	log.Printf("starting envtest control plane and the three services")
	cp, err := controlplane.Start(controlplane.Options{CRDDirs: []string{c.CRDDir}, KubeconfigPath: filepath.Join(dir, "kubeconfig")})
	if err != nil {
		return nil, err
	}
	defer func() { _ = cp.Stop() }()
	cfg, kubeconfig := cp.Config, cp.KubeconfigPath
	svcs, err := inprocess.Start(dir)
	if err != nil {
		return nil, err
	}
	defer func() { _ = svcs.Stop() }()

	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = float32(c.QPS), c.Burst
	cl, err := client.New(cfg, client.Options{Scheme: controllers.Scheme()})
	if err != nil {
		return nil, err
	}
	unthrottled := rest.CopyConfig(cfg)
	unthrottled.QPS, unthrottled.Burst = -1, 0
	rawCl, err := client.New(unthrottled, client.Options{Scheme: controllers.Scheme()})
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	for _, ns := range []string{benchNS, rawNS} {
		if err := cl.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return nil, err
		}
	}

	parts, err := svcs.Clients(participants.Options{Timeout: defaults.StepTimeout, MaxIdleConnsPerHost: 2 * c.Conc})
	if err != nil {
		return nil, err
	}
	cartsAPI, stocksAPI := parts.Carts, parts.Stocks
	if _, err := stocksAPI.SetStock(ctx, storeID, productOK, 1_000_000); err != nil {
		return nil, err
	}
	if _, err := stocksAPI.SetStock(ctx, storeID, productScarce, 0); err != nil {
		return nil, err
	}

	// a. raw floor, before any controller runs.
	log.Printf("raw floor: %d ConfigMaps at concurrency %d, QPS %g burst %d", c.N, c.Conc, c.QPS, c.Burst)
	if rep.rawCM, err = rawCreates(ctx, cl, c.N, c.Conc, rawConfigMap); err != nil {
		return nil, err
	}
	// The first Orders after the CRD is installed wait for the API server to finish setting
	// it up (storage, OpenAPI, CEL): warm that path before timing it.
	if _, err := rawCreates(ctx, cl, 50, c.Conc, func(i int) client.Object { return rawOrder(2_000_000 + i) }); err != nil {
		return nil, err
	}
	time.Sleep(2 * time.Second)
	if rep.rawOrders, err = rawCreates(ctx, cl, c.N, c.Conc, rawOrder); err != nil {
		return nil, err
	}
	if rep.rawCMUnthrottled, err = rawCreates(ctx, rawCl, c.N, c.Conc, func(i int) client.Object {
		o := rawConfigMap(i)
		o.SetName(fmt.Sprintf("rawu-%06d", i))
		return o
	}); err != nil {
		return nil, err
	}
	// The API server's profile while it only creates Orders: what makes a CR write dear.
	profDoneRaw := make(chan error, 1)
	stopRaw := make(chan struct{})
	go func() {
		profDoneRaw <- rep.profileAPIServerTo(ctx, cs, 5, "apiserver-creates-cpu.pprof", &rep.apiCreateTop)
		close(stopRaw)
	}()
	var rawSeq atomic.Int64
	_ = parallel(c.Conc, c.Conc, func(int) error {
		for {
			select {
			case <-stopRaw:
				return nil
			default:
			}
			if err := cl.Create(ctx, rawOrder(int(1_000_000+rawSeq.Add(1)))); err != nil {
				return err
			}
		}
	})
	if err := <-profDoneRaw; err != nil {
		log.Printf("apiserver profile: %v", err)
	}
	log.Printf("raw: %.0f ConfigMaps/s, %.0f Orders/s (no controller), %.0f ConfigMaps/s unthrottled", rep.rawCM, rep.rawOrders, rep.rawCMUnthrottled)
	if err := cl.DeleteAllOf(ctx, &sagav1.Order{}, client.InNamespace(rawNS)); err != nil {
		return nil, err
	}
	if err := cl.DeleteAllOf(ctx, &corev1.ConfigMap{}, client.InNamespace(rawNS)); err != nil {
		return nil, err
	}
	for {
		var l sagav1.OrderList
		if err := cl.List(ctx, &l, client.InNamespace(rawNS)); err != nil {
			return nil, err
		}
		if len(l.Items) == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}

	// b. direct baseline.
	log.Printf("direct baseline: %d sagas at concurrency %d", c.N, c.Conc)
	carts, err := seedCarts(ctx, cartsAPI, c.N, c.Conc, 0)
	if err != nil {
		return nil, err
	}
	if rep.direct, err = direct(ctx, parts, defaults.Policy(), carts, c.Conc); err != nil {
		return nil, err
	}
	log.Printf("direct: %.0f sagas/s, p99 %.0f ms", rep.direct.SagasPerS, rep.direct.P99)
	carts, err = seedCarts(ctx, cartsAPI, c.N, c.Conc, c.RefusedPct)
	if err != nil {
		return nil, err
	}
	if rep.directRefused, err = direct(ctx, parts, defaults.Policy(), carts, c.Conc); err != nil {
		return nil, err
	}

	// c. kubesaga.
	inf, err := cache.New(cfg, cache.Options{Scheme: controllers.Scheme()})
	if err != nil {
		return nil, err
	}
	tr, err := newTracker(ctx, inf)
	if err != nil {
		return nil, err
	}
	go func() { _ = inf.Start(ctx) }()
	if !inf.WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("order informer did not sync")
	}
	e := env{c: cl, tr: tr, carts: cartsAPI, conc: c.Conc,
		apiState: func(ctx context.Context) (apiWrites, error) { return scrapeAPIWrites(ctx, cs) }}

	mgrArgs := func(steps int) []string {
		return []string{fmt.Sprintf("--max-concurrent-reconciles=%d", c.Conc), fmt.Sprintf("--max-steps-per-pass=%d", steps),
			fmt.Sprintf("--kube-api-qps=%g", c.QPS), fmt.Sprintf("--kube-api-burst=%d", c.Burst)}
	}
	scenario := func(name string, n, refused, steps int, rate float64) (runResult, error) {
		log.Printf("kubesaga %s: %d Orders, %d%% refused, %d steps/pass, rate %s", name, n, refused, steps, rateText(rate))
		r, err := runOrders(ctx, e, name, n, refused, steps, rate)
		if err == nil {
			log.Printf("  %.1f Orders/s, p50 %.0f p95 %.0f p99 %.0f ms, %.2f writes/Order (+%.2f Event writes), CPU %.2f s/1000, RSS %.0f MB (peak %.0f)",
				r.OrdersPerS, r.P50, r.P95, r.P99, r.OrderWritesPerOrder, r.EventWritesPerOrder, r.ManagerCPUPer1000, r.ManagerRSSMB, r.ManagerHWMMB)
			if name != "warmup" && !strings.HasPrefix(name, "warmup") {
				rep.runs = append(rep.runs, r)
			}
		}
		return r, err
	}

	steps := defaults.MaxStepsPerPass
	m, err := startManager(bin, dir, kubeconfig, svcs, mgrArgs(steps), fmt.Sprintf("steps%d", steps))
	if err != nil {
		return nil, err
	}
	e.mgr = m
	defer func() { m.stop() }()
	rep.memory = append(rep.memory, memPoint(m, 0, "manager started, informer synced (empty)"))
	if _, err := scenario("warmup", c.Warmup, 0, steps, 0); err != nil {
		return nil, err
	}
	peak, err := scenario("peak", c.N, 0, steps, 0)
	if err != nil {
		return nil, err
	}
	rep.memory = append(rep.memory, memPoint(m, peak.OrdersInCluster, "after the peak run"))

	rate := c.SteadyFactor * peak.OrdersPerS
	profSecs := int(float64(c.N)/rate) + 1
	profDone := make(chan error, 1)
	go func() { profDone <- rep.profile(ctx, m, profSecs) }()
	apiProfDone := make(chan error, 1)
	go func() { apiProfDone <- rep.profileAPIServer(ctx, cs, profSecs) }()
	steady, err := scenario("steady", c.N, 0, steps, rate)
	if err != nil {
		return nil, err
	}
	rep.memory = append(rep.memory, memPoint(m, steady.OrdersInCluster, "after the steady run"))
	if err := <-profDone; err != nil {
		log.Printf("profile: %v", err)
	}
	if err := <-apiProfDone; err != nil {
		log.Printf("apiserver profile: %v", err)
	}
	refused, err := scenario("refused", c.N, c.RefusedPct, steps, 0)
	if err != nil {
		return nil, err
	}
	rep.memory = append(rep.memory, memPoint(m, refused.OrdersInCluster, "after the refused run"))
	rep.orderJSONBytes = orderSize(ctx, cl)
	rep.cachedOrderBytes = cachedOrderBytes(ctx, cl)

	if c.Steps1 {
		m.stop()
		m, err = startManager(bin, dir, kubeconfig, svcs, mgrArgs(1), "steps1")
		if err != nil {
			return nil, err
		}
		e.mgr = m
		w, err := scenario("warmup-steps1", c.Warmup, 0, 1, 0)
		if err != nil {
			return nil, err
		}
		rep.memory = append(rep.memory, memPoint(m, w.OrdersInCluster, "a fresh manager (1 step/pass), after its warmup"))
		if _, err := scenario("peak-steps1", c.N, 0, 1, 0); err != nil {
			return nil, err
		}
	}
	// The API server's rate for each kind of Order write, on the peak run's finished Orders.
	m.stop()
	names := make([]string, peak.N)
	for i := range names {
		names[i] = fmt.Sprintf("peak-%05d", i)
	}
	log.Printf("Order write rates on %d finished Orders (manager stopped)", len(names))
	if rep.writes, err = measureWrites(ctx, cl, names, c.Conc); err != nil {
		return nil, err
	}
	log.Printf("  status merge patch %.0f/s, status update %.0f/s, metadata merge patch %.0f/s",
		rep.writes.StatusMergePatch, rep.writes.StatusUpdate, rep.writes.MetaMergePatch)
	rep.finished = time.Now()
	return rep, nil
}

func rateText(r float64) string {
	if r <= 0 {
		return "as fast as possible"
	}
	return fmt.Sprintf("%.1f/s", r)
}

func memPoint(m *managerProc, orders int, what string) memSample {
	time.Sleep(time.Second)
	_, _ = httpGet(m.pprofURL + "/heap?gc=1") // a full GC first, so that the heap holds only live objects
	s, _ := m.stats()
	return memSample{Orders: orders, What: what, RSSMB: s.RSSMB, HeapInuseMB: s.HeapInMB}
}

// cachedOrderBytes is the live heap that one Order decoded as the informer holds it costs
// (a typed sagav1.Order with its managed fields), measured in this process.
func cachedOrderBytes(ctx context.Context, cl client.Client) float64 {
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	l := &sagav1.OrderList{}
	if err := cl.List(ctx, l, client.InNamespace(benchNS)); err != nil || len(l.Items) == 0 {
		return 0
	}
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	n := len(l.Items)
	runtime.KeepAlive(l)
	return float64(int64(ms1.HeapAlloc)-int64(ms0.HeapAlloc)) / float64(n)
}

// orderSize is the mean JSON size of a finished Order, a proxy of what the informer holds.
func orderSize(ctx context.Context, cl client.Client) float64 {
	var l sagav1.OrderList
	if err := cl.List(ctx, &l, client.InNamespace(benchNS), client.Limit(200)); err != nil || len(l.Items) == 0 {
		return 0
	}
	var total int
	for i := range l.Items {
		b, _ := json.Marshal(&l.Items[i])
		total += len(b)
	}
	return float64(total) / float64(len(l.Items))
}

// profile takes a CPU profile and an allocation profile of the manager over secs and
// keeps `go tool pprof -top` of each for the report.
func (rep *report) profile(ctx context.Context, m *managerProc, secs int) error {
	cpu := filepath.Join(rep.dir, "manager-cpu.pprof")
	allocs := filepath.Join(rep.dir, "manager-allocs.pprof")
	errc := make(chan error, 2)
	fetch := func(url, path string) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			errc <- err
			return
		}
		defer func() { _ = resp.Body.Close() }()
		f, err := os.Create(path)
		if err != nil {
			errc <- err
			return
		}
		_, err = io.Copy(f, resp.Body)
		_ = f.Close()
		errc <- err
	}
	go fetch(fmt.Sprintf("%s/profile?seconds=%d", m.pprofURL, secs), cpu)
	go fetch(fmt.Sprintf("%s/allocs?seconds=%d", m.pprofURL, secs), allocs)
	for range 2 {
		if err := <-errc; err != nil {
			return err
		}
	}
	rep.profileSecs = secs
	rep.cpuProfile, rep.allocProfile = cpu, allocs
	top := func(args ...string) string {
		out, err := exec.Command("go", append([]string{"tool", "pprof"}, args...)...).Output()
		if err != nil {
			return fmt.Sprintf("(go tool pprof: %v)", err)
		}
		return trimPprof(string(out))
	}
	rep.cpuTop = top("-top", "-nodecount=25", rep.managerBin, cpu)
	rep.cpuCum = top("-top", "-cum", "-nodecount=40", rep.managerBin, cpu)
	rep.allocTop = top("-top", "-sample_index=alloc_space", "-nodecount=20", rep.managerBin, allocs)
	return nil
}

// profileAPIServer takes a CPU profile of the kube-apiserver over secs, through its
// /debug/pprof (the admin client is allowed), and keeps its top functions.
func (rep *report) profileAPIServer(ctx context.Context, cs *kubernetes.Clientset, secs int) error {
	return rep.profileAPIServerTo(ctx, cs, secs, "apiserver-cpu.pprof", &rep.apiTop)
}

func (rep *report) profileAPIServerTo(ctx context.Context, cs *kubernetes.Clientset, secs int, file string, tops *[]string) error {
	raw, err := cs.CoreV1().RESTClient().Get().AbsPath("/debug/pprof/profile").
		Param("seconds", fmt.Sprint(secs)).Timeout(time.Duration(secs+60) * time.Second).DoRaw(ctx)
	if err != nil {
		return err
	}
	path := filepath.Join(rep.dir, file)
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		return err
	}
	if file == "apiserver-cpu.pprof" {
		rep.apiProfile = path
	}
	for _, args := range [][]string{{"-top", "-nodecount=25"}, {"-top", "-cum", "-nodecount=60"}} {
		out, err := exec.Command("go", append(append([]string{"tool", "pprof"}, args...), path)...).Output()
		if err != nil {
			return fmt.Errorf("go tool pprof: %w", err)
		}
		*tops = append(*tops, trimPprof(string(out)))
	}
	return nil
}

// trimPprof drops pprof's header lines that name local paths.
func trimPprof(s string) string {
	var keep []string
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if strings.HasPrefix(l, "File:") || strings.HasPrefix(l, "Build ID:") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

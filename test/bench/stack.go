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
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/kubesaga/kubesaga/internal/dev/inprocess"
)

// managerProc is the manager running as a child process.
type managerProc struct {
	cmd        *exec.Cmd
	metricsURL string
	pprofURL   string
	logPath    string
	exited     chan struct{}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// participantURLs are the base URLs the manager calls: carts, stocks, sales.
type participantURLs struct{ carts, stocks, sales string }

func urlsOf(s *inprocess.Set) participantURLs {
	return participantURLs{s.Carts.URL(), s.Stocks.URL(), s.Sales.URL()}
}

func startManager(bin, dir, kubeconfig string, urls participantURLs, extra []string, tag string) (*managerProc, error) {
	ports := make([]int, 3)
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	args := make([]string, 0, 7+len(extra))
	args = append(args,
		"--carts-url="+urls.carts, "--stocks-url="+urls.stocks, "--sales-url="+urls.sales,
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", ports[0]),
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", ports[1]),
		fmt.Sprintf("--pprof-bind-address=127.0.0.1:%d", ports[2]),
		"--log-format=json",
	)
	args = append(args, extra...)
	logPath := filepath.Join(dir, "manager-"+tag+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, err
	}
	m := &managerProc{cmd: cmd, logPath: logPath, exited: make(chan struct{}),
		metricsURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[0]),
		pprofURL:   fmt.Sprintf("http://127.0.0.1:%d/debug/pprof", ports[2])}
	go func() { _ = cmd.Wait(); _ = logf.Close(); close(m.exited) }()
	ready := fmt.Sprintf("http://127.0.0.1:%d/readyz", ports[1])
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-m.exited:
			return nil, fmt.Errorf("manager exited at start; see %s", logPath)
		default:
		}
		if resp, err := http.Get(ready); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return m, nil
			}
		}
		if time.Now().After(deadline) {
			m.stop()
			return nil, fmt.Errorf("manager not ready within 60s; see %s", logPath)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (m *managerProc) stop() {
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.exited:
	case <-time.After(20 * time.Second):
		_ = m.cmd.Process.Kill()
		<-m.exited
	}
}

// procStats are the manager's CPU seconds and memory, read from /proc.
type procStats struct {
	CPU      float64 // utime+stime, seconds
	RSSMB    float64 // VmRSS
	HWMMB    float64 // VmHWM: peak RSS over the process's life
	HeapInMB float64 // go_memstats_heap_alloc_bytes from the manager's metrics: live heap right after a GC
}

const clockTicks = 100 // getconf CLK_TCK on Linux

func (m *managerProc) stats() (procStats, error) {
	pid := m.cmd.Process.Pid
	var ps procStats
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ps, err
	}
	i := bytes.LastIndexByte(stat, ')')
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return ps, errors.New("short /proc/pid/stat")
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	ps.CPU = (ut + st) / clockTicks
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ps, err
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 0 {
			continue
		}
		kb, _ := strconv.ParseFloat(fs[0], 64)
		switch k {
		case "VmRSS":
			ps.RSSMB = kb / 1024
		case "VmHWM":
			ps.HWMMB = kb / 1024
		}
	}
	if body, err := httpGet(m.metricsURL); err == nil {
		for _, line := range strings.Split(body, "\n") {
			if v, ok := strings.CutPrefix(line, "go_memstats_heap_alloc_bytes "); ok {
				b, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
				ps.HeapInMB = b / (1 << 20)
			}
		}
	}
	return ps, nil
}

func httpGet(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return b.String(), nil
}

// apiWrites counts the API server's write requests by resource, from its /metrics.
type apiWrites map[string]float64 // "resource[/subresource] VERB code" -> count

// apiServerCPU is the key of the API server's own CPU seconds (process_cpu_seconds_total)
// in apiWrites; with two words it never matches a "resource VERB code" sum. etcdCPU and
// benchCPU are etcd's and this process's (the load, its watch and the real services).
const (
	apiServerCPU = "apiserver cpu_seconds"
	etcdCPU      = "etcd cpu_seconds"
	benchCPU     = "bench cpu_seconds"
)

// machineCPU adds etcd's CPU seconds (from its /metrics) and this process's (getrusage)
// to w, so that a run accounts for every process on the machine but the manager's, which
// is measured from /proc.
func machineCPU(etcdURL string, w apiWrites) error {
	raw, err := httpGet(etcdURL + "/metrics")
	if err != nil {
		return fmt.Errorf("etcd /metrics: %w", err)
	}
	for _, line := range strings.Split(raw, "\n") {
		if v, ok := strings.CutPrefix(line, "process_cpu_seconds_total "); ok {
			w[etcdCPU], _ = strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return fmt.Errorf("getrusage: %w", err)
	}
	w[benchCPU] = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	return nil
}

func scrapeAPIWrites(ctx context.Context, cs *kubernetes.Clientset) (apiWrites, error) {
	raw, err := cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("apiserver /metrics: %w", err)
	}
	w := apiWrites{}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "process_cpu_seconds_total "); ok {
			w[apiServerCPU], _ = strconv.ParseFloat(strings.TrimSpace(v), 64)
			continue
		}
		sample, ok := strings.CutPrefix(line, "apiserver_request_total{")
		if !ok {
			continue
		}
		end := strings.LastIndexByte(sample, '}')
		if end < 0 {
			continue
		}
		labels := map[string]string{}
		for _, kv := range strings.Split(sample[:end], ",") {
			k, v, _ := strings.Cut(kv, "=")
			labels[k] = strings.Trim(v, `"`)
		}
		switch labels["verb"] {
		case "POST", "PUT", "PATCH", "DELETE":
		default:
			continue
		}
		val, err := strconv.ParseFloat(strings.TrimSpace(sample[end+1:]), 64)
		if err != nil {
			continue
		}
		res := labels["resource"]
		if s := labels["subresource"]; s != "" {
			res += "/" + s
		}
		w[res+" "+labels["verb"]+" "+labels["code"]] += val
	}
	return w, nil
}

// delta returns after-before for every key.
func (a apiWrites) delta(before apiWrites) apiWrites {
	d := apiWrites{}
	for k, v := range a {
		if x := v - before[k]; x != 0 {
			d[k] = x
		}
	}
	return d
}

// sum adds the counts whose resource (with subresource) is one of res and, when set,
// whose code is code.
func (a apiWrites) sum(match func(res, verb, code string) bool) float64 {
	var n float64
	for k, v := range a {
		f := strings.Fields(k)
		if len(f) == 3 && match(f[0], f[1], f[2]) {
			n += v
		}
	}
	return n
}

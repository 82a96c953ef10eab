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
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
)

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

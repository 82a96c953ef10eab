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
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
)

// The peer is dtm (github.com/dtm-labs/dtm), a saga coordinator that keeps its sagas in its
// own store (BoltDB by default) instead of in Kubernetes. It is built from test/bench/peer,
// a module of its own that pins dtm, so the product module never depends on it.
const (
	peerModuleDir = "test/bench/peer"
	peerVersion   = "v1.19.0" // also pinned in test/bench/peer/go.mod
)

// peerSteps mirror the Order saga's five steps (internal/ordersaga); the last two have no
// undo of their own in our saga, so theirs is a no-op here.
var peerSteps = []struct{ do, undo string }{
	{"lock-cart", "unlock-cart"},
	{"reserve-stock", "release-stock"},
	{"create-sale", "cancel-sale"},
	{"commit-reservation", "noop"},
	{"checkout-cart", "noop"},
}

// buildPeer builds dtm's server with the wrapper main of the peer module.
func buildPeer(dir string) (string, error) {
	bin := filepath.Join(dir, "dtm")
	abs, err := filepath.Abs(peerModuleDir)
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = abs
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build %s (dtm %s): %w", peerModuleDir, peerVersion, err)
	}
	return bin, nil
}

// peerProc is dtm's server running as a child process.
type peerProc struct {
	cmd    *exec.Cmd
	url    string // http://127.0.0.1:port/api/dtmsvr
	exited chan struct{}
}

// startPeer starts dtm with its default configuration except the ports (free ones), in a
// working directory of its own, where its default store puts dtm.bolt.
func startPeer(bin, dir string) (*peerProc, error) {
	work := filepath.Join(dir, "dtm-work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	ports := make([]int, 3)
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	logf, err := os.Create(filepath.Join(dir, "dtm.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), fmt.Sprintf("HTTP_PORT=%d", ports[0]), fmt.Sprintf("GRPC_PORT=%d", ports[1]),
		fmt.Sprintf("JSON_RPC_PORT=%d", ports[2]))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, err
	}
	p := &peerProc{cmd: cmd, url: fmt.Sprintf("http://127.0.0.1:%d/api/dtmsvr", ports[0]), exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); _ = logf.Close(); close(p.exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-p.exited:
			return nil, fmt.Errorf("dtm exited at start; see %s", logf.Name())
		default:
		}
		if _, err := httpGet(p.url + "/newGid"); err == nil {
			return p, nil
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("dtm not ready within 60s; see %s", logf.Name())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *peerProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// cpuSeconds is the peer's utime+stime so far.
func (p *peerProc) cpuSeconds() float64 {
	m := managerProc{cmd: p.cmd}
	s, _ := m.stats()
	return s.CPU
}

// peerParticipant answers dtm's HTTP branch protocol at once: 200 {"dtm_result":"SUCCESS"}
// for every action and compensation, and 409 {"dtm_result":"FAILURE"} for the
// reserve-stock action of a saga whose payload asks to be refused, after which dtm
// compensates the branches done.
type peerParticipant struct {
	url   string
	srv   *http.Server
	calls atomic.Int64
}

func startPeerParticipant() (*peerParticipant, error) {
	p := &peerParticipant{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p.url = "http://" + ln.Addr().String()
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

func (p *peerParticipant) close() { _ = p.srv.Close() }

func (p *peerParticipant) serve(w http.ResponseWriter, r *http.Request) {
	p.calls.Add(1)
	var body struct {
		Refuse bool `json:"refuse"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	w.Header().Set("Content-Type", "application/json")
	if body.Refuse && strings.HasSuffix(r.URL.Path, "/reserve-stock") {
		w.WriteHeader(http.StatusConflict)
		_, _ = io.WriteString(w, `{"dtm_result":"FAILURE","message":"insufficient-stock"}`)
		return
	}
	_, _ = io.WriteString(w, `{"dtm_result":"SUCCESS"}`)
}

// peerResult is one run of n sagas through dtm.
type peerResult struct {
	N             int     `json:"n"`
	RefusedPct    int     `json:"refused_pct"`
	SagasPerS     float64 `json:"sagas_per_s"`
	P50, P95, P99 float64 // ms, submit (wait_result) to its answer
	Succeeded     int     `json:"succeeded"`
	Failed        int     `json:"failed"`
	CallsPerSaga  float64 `json:"participant_calls_per_saga"`
	CPUPer1000    float64 `json:"peer_cpu_s_per_1000"`
}

// runPeer submits n sagas to dtm at conc, each with wait_result, so that dtm answers the
// submit once the saga is finished (succeeded, or failed and compensated): the latency of
// one saga is the submit's round trip, and the throughput n over the whole run.
func runPeer(ctx context.Context, dtm *peerProc, part *peerParticipant, n, conc, refusedPct int) (peerResult, error) {
	res := peerResult{N: n, RefusedPct: refusedPct}
	hc := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 2 * conc}}
	lat := make([]float64, n)
	var ok, failed atomic.Int64
	calls0, cpu0 := part.calls.Load(), dtm.cpuSeconds()
	start := time.Now()
	err := parallel(n, conc, func(i int) error {
		gid := uuid.NewString()
		steps := make([]map[string]string, len(peerSteps))
		payloads := make([]string, len(peerSteps))
		for j, s := range peerSteps {
			steps[j] = map[string]string{"action": part.url + "/dtm/" + s.do, "compensate": part.url + "/dtm/" + s.undo}
			pl, _ := json.Marshal(map[string]any{"orderId": gid, "step": s.do, "refuse": refusedAt(i, refusedPct)})
			payloads[j] = string(pl)
		}
		body, _ := json.Marshal(map[string]any{"gid": gid, "trans_type": "saga", "steps": steps, "payloads": payloads, "wait_result": true})
		t0 := time.Now()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, dtm.url+"/submit", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return fmt.Errorf("dtm submit: %w", err)
		}
		answer, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		lat[i] = ms(time.Since(t0))
		switch {
		case resp.StatusCode == http.StatusOK:
			ok.Add(1)
		case resp.StatusCode == http.StatusConflict && refusedAt(i, refusedPct):
			failed.Add(1)
		default:
			return fmt.Errorf("dtm submit %s: %d %s", gid, resp.StatusCode, answer)
		}
		return nil
	})
	el := time.Since(start).Seconds()
	res.SagasPerS = float64(n) / el
	res.Succeeded, res.Failed = int(ok.Load()), int(failed.Load())
	res.P50, res.P95, res.P99 = percentiles(lat)
	res.CallsPerSaga = float64(part.calls.Load()-calls0) / float64(n)
	res.CPUPer1000 = (dtm.cpuSeconds() - cpu0) / float64(n) * 1000
	return res, err
}

// runPeerScenarios starts dtm and its participant, runs n sagas without and with
// refusals, and stops both.
func (rep *report) runPeerScenarios(ctx context.Context, bin string, c config) error {
	dtm, err := startPeer(bin, rep.dir)
	if err != nil {
		return err
	}
	defer dtm.stop()
	part, err := startPeerParticipant()
	if err != nil {
		return err
	}
	defer part.close()
	if _, err := runPeer(ctx, dtm, part, c.Warmup, c.Conc, 0); err != nil {
		return fmt.Errorf("peer warmup: %w", err)
	}
	for _, s := range []struct {
		pct int
		out *peerResult
	}{{0, &rep.peer}, {c.RefusedPct, &rep.peerRefused}} {
		log.Printf("peer: dtm %s, %d sagas at concurrency %d, %d%% refused (in-memory participant)", peerVersion, c.N, c.Conc, s.pct)
		if *s.out, err = runPeer(ctx, dtm, part, c.N, c.Conc, s.pct); err != nil {
			return err
		}
		log.Printf("  %.1f sagas/s, p50 %.0f p99 %.0f ms, dtm CPU %.2f s/1000", s.out.SagasPerS, s.out.P50, s.out.P99, s.out.CPUPer1000)
	}
	return nil
}

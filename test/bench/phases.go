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
	"log"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/controllers"
	"github.com/kubesaga/kubesaga/internal/dev/binaries"
	"github.com/kubesaga/kubesaga/internal/dev/controlplane"
	"github.com/kubesaga/kubesaga/internal/dev/inprocess"
	"github.com/kubesaga/kubesaga/internal/ordersaga"
	"github.com/kubesaga/kubesaga/internal/participants"
)

// bench is one run of the benchmark: what it set up, shared by its phases.
type bench struct {
	c        config
	defaults controllers.ManagerOptions
	rep      *report

	bin, peerBin string
	kubeconfig   string
	cp           *controlplane.ControlPlane
	svcs         *inprocess.Set
	cfg          *rest.Config  // the admin's, throttled at the configured QPS
	cl, rawCl    client.Client // throttled, unthrottled
	cs           *kubernetes.Clientset
	parts        ordersaga.Participants
}

// setUp builds the manager, starts the control plane and the services, and seeds the stock.
func (b *bench) setUp(ctx context.Context) error {
	dir := b.c.WorkDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "kubesaga-bench-"); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b.rep.dir = dir
	log.Printf("work dir %s", dir)

	log.Printf("building ./cmd/manager")
	var err error
	if err = binaries.Build(ctx, dir, binaries.Manager); err != nil {
		return err
	}
	b.bin = filepath.Join(dir, binaries.Manager)
	b.rep.managerBin = b.bin
	log.Printf("building the peer, dtm %s (%s)", peerVersion, peerModuleDir)
	if b.peerBin, err = buildPeer(dir); err != nil {
		return err
	}

	log.Printf("starting envtest control plane and the three services")
	b.cp, err = controlplane.Start(controlplane.Options{CRDDirs: []string{b.c.CRDDir}, KubeconfigPath: filepath.Join(dir, "kubeconfig")})
	if err != nil {
		return err
	}
	b.kubeconfig = b.cp.KubeconfigPath
	if b.svcs, err = inprocess.Start(dir); err != nil {
		return err
	}
	if err := b.clients(); err != nil {
		return err
	}
	for _, ns := range []string{benchNS, rawNS} {
		if err := b.cl.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return err
		}
	}
	if _, err := b.parts.Stocks.SetStock(ctx, storeID, productOK, 1_000_000); err != nil {
		return err
	}
	_, err = b.parts.Stocks.SetStock(ctx, storeID, productScarce, 0)
	return err
}

// clients makes the API clients (throttled as the manager is, and unthrottled) and the
// participant clients.
func (b *bench) clients() error {
	b.cfg = rest.CopyConfig(b.cp.Config)
	b.cfg.QPS, b.cfg.Burst = float32(b.c.QPS), b.c.Burst
	var err error
	if b.cl, err = client.New(b.cfg, client.Options{Scheme: controllers.Scheme()}); err != nil {
		return err
	}
	if b.rawCl, err = unthrottledClient(b.cfg); err != nil {
		return err
	}
	if b.cs, err = kubernetes.NewForConfig(b.cfg); err != nil {
		return err
	}
	b.parts, err = b.svcs.Clients(participants.Options{Timeout: b.defaults.StepTimeout, MaxIdleConnsPerHost: 2 * b.c.Conc})
	return err
}

// close stops what setUp started.
func (b *bench) close() {
	if b.svcs != nil {
		_ = b.svcs.Stop()
	}
	if b.cp != nil {
		_ = b.cp.Stop()
	}
}

// rawFloor measures the API server's create rate before any controller runs, with
// client-side throttling off over a fixed window (floor.go), and its CPU profile while it
// only creates Orders.
func (b *bench) rawFloor(ctx context.Context) error {
	if err := b.rep.measureFloor(ctx, b.cl, b.rawCl, b.c); err != nil {
		return err
	}
	b.profileCreates(ctx)
	return b.emptyRawNamespace(ctx)
}

// peerBaseline runs the peer, dtm, against its in-memory participant (peer.go).
func (b *bench) peerBaseline(ctx context.Context) error {
	return b.rep.runPeerScenarios(ctx, b.peerBin, b.c)
}

// profileCreates profiles the API server while it only creates Orders: what makes a CR
// write dear.
func (b *bench) profileCreates(ctx context.Context) {
	profDone := make(chan error, 1)
	stop := make(chan struct{})
	go func() {
		profDone <- b.rep.profileAPIServerTo(ctx, b.cs, 5, "apiserver-creates-cpu.pprof", &b.rep.apiCreateTop)
		close(stop)
	}()
	var seq atomic.Int64
	_ = parallel(b.c.Conc, b.c.Conc, func(int) error {
		for {
			select {
			case <-stop:
				return nil
			default:
			}
			if err := b.rawCl.Create(ctx, rawOrder(int(1_000_000+seq.Add(1)))); err != nil {
				return err
			}
		}
	})
	if err := <-profDone; err != nil {
		log.Printf("apiserver profile: %v", err)
	}
}

func (b *bench) emptyRawNamespace(ctx context.Context) error {
	if err := b.cl.DeleteAllOf(ctx, &sagav1.Order{}, client.InNamespace(rawNS)); err != nil {
		return err
	}
	if err := b.cl.DeleteAllOf(ctx, &corev1.ConfigMap{}, client.InNamespace(rawNS)); err != nil {
		return err
	}
	for {
		var l sagav1.OrderList
		if err := b.cl.List(ctx, &l, client.InNamespace(rawNS)); err != nil {
			return err
		}
		if len(l.Items) == 0 {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// directBaseline runs the same sagas driven directly by internal/saga against the same
// services, without Kubernetes: all accepted, then with refusals.
func (b *bench) directBaseline(ctx context.Context) error {
	c, rep := b.c, b.rep
	log.Printf("direct baseline: %d sagas at concurrency %d", c.N, c.Conc)
	carts, err := seedCarts(ctx, b.parts.Carts, c.N, c.Conc, 0)
	if err != nil {
		return err
	}
	if rep.direct, err = direct(ctx, b.parts, b.defaults.Policy(), carts, c.Conc); err != nil {
		return err
	}
	log.Printf("direct: %.0f sagas/s, p99 %.0f ms", rep.direct.SagasPerS, rep.direct.P99)
	if carts, err = seedCarts(ctx, b.parts.Carts, c.N, c.Conc, c.RefusedPct); err != nil {
		return err
	}
	rep.directRefused, err = direct(ctx, b.parts, b.defaults.Policy(), carts, c.Conc)
	return err
}

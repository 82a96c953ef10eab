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

// Package e2e runs kubesaga as a user does: a real kube-apiserver and etcd, the manager
// and the three participant services as separate processes built from cmd/, driven by
// the real kubectl binary and by HTTP to the services.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kubesaga/kubesaga/internal/dev/binaries"
	"github.com/kubesaga/kubesaga/internal/dev/controlplane"
	"github.com/kubesaga/kubesaga/internal/dev/devstack"
	"github.com/kubesaga/kubesaga/internal/participants"
)

const namespace = "e2e"

var (
	ctx          context.Context
	cancel       context.CancelFunc
	controlPlane *controlplane.ControlPlane
	kubeconfig   string
	kubectlBin   string
	workDir      string // manifests
	stack        *devstack.Stack

	cartsAPI  *participants.Carts
	stocksAPI *participants.Stocks
	salesAPI  *participants.Sales
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "kubesaga end-to-end suite (real processes, real kubectl)")
}

var _ = BeforeSuite(func() {
	ctx, cancel = context.WithCancel(context.Background())
	tmp := GinkgoT().TempDir()
	workDir = filepath.Join(tmp, "manifests")
	Expect(os.MkdirAll(workDir, 0o750)).To(Succeed())

	// The binaries, built from this checkout as `make build` would.
	binDir := filepath.Join(tmp, "bin")
	start := time.Now()
	Expect(binaries.Build(ctx, binDir)).To(Succeed())
	GinkgoWriter.Printf("built the binaries in %s\n", time.Since(start).Round(time.Millisecond))

	// The control plane, with the CRDs as `make install` applies them.
	var err error
	controlPlane, err = controlplane.Start(controlplane.Options{Admin: "e2e-admin", KubeconfigPath: filepath.Join(tmp, "kubeconfig")})
	Expect(err).NotTo(HaveOccurred())
	kubeconfig = controlPlane.KubeconfigPath
	kubectlBin = controlPlane.Kubectl()
	Expect(kubectlBin).To(BeAnExistingFile(), "kubectl is built by `make envtest`")
	kubectl("create", "namespace", namespace)

	// The services and the manager as processes, with short backoffs so that a service
	// outage of a second or two is ridden out and retries happen within the test's time.
	stack, err = devstack.Start(ctx, devstack.Options{
		Dir: filepath.Join(tmp, "stack"), BinDir: binDir, Kubeconfig: kubeconfig,
		ManagerArgs: []string{"--backoff-base=100ms", "--backoff-max=1s", "--max-attempts=10",
			"--compensation-max-attempts=10", "--step-timeout=2s", "--max-concurrent-reconciles=8"},
		Log: GinkgoWriter,
		// The manager reaches stocks through a fault proxy, for route-level faults.
		Proxied: []string{devstack.Stocks},
		Gateway: devstack.GatewayOptions{Enabled: true, Namespace: namespace}, // gateway_test.go
	})
	Expect(err).NotTo(HaveOccurred())
	po := participants.Options{Timeout: 5 * time.Second}
	cartsAPI, err = participants.NewCarts(stack.CartsURL(), nil, po)
	Expect(err).NotTo(HaveOccurred())
	stocksAPI, err = participants.NewStocks(stack.StocksURL(), nil, po)
	Expect(err).NotTo(HaveOccurred())
	salesAPI, err = participants.NewSales(stack.SalesURL(), nil, po)
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	if stack != nil {
		Expect(stack.Stop()).To(Succeed())
		Expect(devstack.Leftovers(stack.Dir())).To(BeEmpty(), "no process of the stack may be left")
	}
	if cancel != nil {
		cancel()
	}
	if controlPlane != nil {
		Expect(controlPlane.Stop()).To(Succeed())
	}
})

var _ = AfterEach(func() {
	if stack == nil {
		return
	}
	if CurrentSpecReport().Failed() {
		for _, name := range stack.Names() {
			GinkgoWriter.Printf("---- last lines of %s\n%s\n", stack.LogFile(name), stack.LogTail(name, 30))
		}
	}
	// A spec that took a service down must not leave it down for the next one.
	for _, name := range stack.Names() {
		if !stack.Running(name) {
			Expect(stack.Restart(ctx, name)).To(Succeed())
		}
	}
})

// kubectlE runs kubectl against the suite's control plane in the e2e namespace and
// returns its standard output.
func kubectlE(args ...string) (string, error) {
	full := append([]string{"--kubeconfig=" + kubeconfig, "--namespace=" + namespace}, args...)
	cmd := exec.CommandContext(ctx, kubectlBin, full...) //nolint:gosec
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String(), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// kubectl runs kubectl and fails the spec when it fails.
func kubectl(args ...string) string {
	GinkgoHelper()
	out, err := kubectlE(args...)
	Expect(err).NotTo(HaveOccurred())
	return out
}

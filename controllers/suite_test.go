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

package controllers_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/yaml"

	"github.com/kubesaga/kubesaga/controllers"
	"github.com/kubesaga/kubesaga/internal/dev/controlplane"
	"github.com/kubesaga/kubesaga/internal/eventbus"
	"github.com/kubesaga/kubesaga/internal/eventbus/natsembed"
	"github.com/kubesaga/kubesaga/internal/participants"
)

// The suite runs the real kube-apiserver and etcd (envtest), the real participant
// services on SQLite files, and the real manager, and asserts through a direct client
// and the services' own APIs.
var (
	controlPlane *controlplane.ControlPlane
	cfg          *rest.Config // admin, for the specs
	mgrCfg       *rest.Config // the operator's user, bound only to the generated ClusterRole
	k8sClient    client.Client
	ctx          context.Context
	cancel       context.CancelFunc

	cartsSvc, stocksSvc, salesSvc *participant
	cartsAPI                      *participants.Carts
	stocksAPI                     *participants.Stocks
	salesAPI                      *participants.Sales

	bus       *natsembed.Server // the event bus (a real NATS server with JetStream)
	mgrCancel context.CancelFunc
	mgrDone   chan struct{}
)

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Order controller suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(GinkgoLogr)
	ctx, cancel = context.WithCancel(context.Background())

	var err error
	controlPlane, err = controlplane.Start(controlplane.Options{})
	Expect(err).NotTo(HaveOccurred())
	cfg = controlPlane.Config
	k8sClient, err = client.New(cfg, client.Options{Scheme: controllers.Scheme()})
	Expect(err).NotTo(HaveOccurred())

	mgrCfg = operatorUser()

	dir := GinkgoT().TempDir()
	cartsSvc, stocksSvc, salesSvc = newParticipant("carts", dir), newParticipant("stocks", dir), newParticipant("sales", dir)
	for _, p := range []*participant{cartsSvc, stocksSvc, salesSvc} {
		p.Start()
	}
	po := participants.Options{Timeout: 5 * time.Second}
	cartsAPI, err = participants.NewCarts(cartsSvc.URL(), nil, po)
	Expect(err).NotTo(HaveOccurred())
	stocksAPI, err = participants.NewStocks(stocksSvc.URL(), nil, po)
	Expect(err).NotTo(HaveOccurred())
	salesAPI, err = participants.NewSales(salesSvc.URL(), nil, po)
	Expect(err).NotTo(HaveOccurred())

	bus, err = natsembed.Start(natsembed.Options{StoreDir: GinkgoT().TempDir()})
	Expect(err).NotTo(HaveOccurred())
	startManager()
})

var _ = AfterSuite(func() {
	stopManager()
	cancel()
	if bus != nil {
		bus.Shutdown()
	}
	for _, p := range []*participant{cartsSvc, stocksSvc, salesSvc} {
		if p != nil {
			p.Stop()
		}
	}
	if controlPlane != nil {
		Expect(controlPlane.Stop()).To(Succeed())
	}
})

// testOptions is the manager configuration of the suite: the production wiring with
// short backoffs so that retries and exhaustion happen within seconds.
func testOptions() controllers.ManagerOptions {
	return controllers.ManagerOptions{
		CartsURL: cartsSvc.URL(), StocksURL: stocksSvc.URL(), SalesURL: salesSvc.URL(),
		StepTimeout:             2 * time.Second,
		MaxAttempts:             8,
		CompensationMaxAttempts: 6,
		BackoffBase:             100 * time.Millisecond,
		BackoffMax:              time.Second,
		MaxStepsPerPass:         8,
		MaxConcurrentReconciles: 4,
		KubeAPIQPS:              200,
		KubeAPIBurst:            400,
		MetricsAddr:             "0",
		ProbeAddr:               "0",
		LogFormat:               "text",
		LeaseDuration:           15 * time.Second,
		SkipNameValidation:      true, // the crash specs start several managers in one process
		Bus: controllers.BusOptions{Options: eventbus.Options{URL: bus.URL()},
			RetryAfter: 200 * time.Millisecond, MaxConcurrentReconciles: 2},
	}
}

// startManager starts a fresh manager, as a restarted operator pod would.
func startManager() { startManagerWith(testOptions()) }

// startManagerWith starts a fresh manager with other options (stop the running one first).
func startManagerWith(opts controllers.ManagerOptions) {
	mgr, err := controllers.NewManager(mgrCfg, opts)
	Expect(err).NotTo(HaveOccurred())
	mctx, mcancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		Expect(mgr.Start(mctx)).To(Succeed())
	}()
	mgrCancel, mgrDone = mcancel, done
	Expect(mgr.GetCache().WaitForCacheSync(ctx)).To(BeTrue())
}

// stopManager stops the running manager and waits until it has stopped.
func stopManager() {
	if mgrCancel == nil {
		return
	}
	mgrCancel()
	Eventually(mgrDone).WithTimeout(30 * time.Second).Should(BeClosed())
	mgrCancel = nil
}

// operatorUser returns the config of a user that holds only the ClusterRole generated
// from the RBAC markers (config/rbac/role.yaml), so that every spec also proves the
// role is enough; it checks first that the API server does enforce RBAC.
func operatorUser() *rest.Config {
	user, err := controlPlane.Env.AddUser(envtest.User{Name: "kubesaga-operator"}, nil)
	Expect(err).NotTo(HaveOccurred())
	raw, err := os.ReadFile(filepath.Join("..", "config", "rbac", "role.yaml"))
	Expect(err).NotTo(HaveOccurred())
	role := &rbacv1.ClusterRole{}
	Expect(yaml.Unmarshal(raw, role)).To(Succeed())
	Expect(k8sClient.Create(ctx, role)).To(Succeed())
	Expect(k8sClient.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "kubesaga-operator"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "kubesaga-operator"}},
	})).To(Succeed())

	c, err := client.New(user.Config(), client.Options{Scheme: controllers.Scheme()})
	Expect(err).NotTo(HaveOccurred())
	err = c.List(ctx, &corev1.SecretList{})
	Expect(apierrors.IsForbidden(err)).To(BeTrue(), "RBAC must be enforced, got %v", err)
	return user.Config()
}

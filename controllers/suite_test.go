package controllers_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/kubesaga/kubesaga/internal/manager"
	"github.com/kubesaga/kubesaga/internal/participants"
)

// The suite runs the real kube-apiserver and etcd (envtest), the real participant
// services on SQLite files, and the real manager, and asserts through a direct client
// and the services' own APIs.
var (
	testEnv   *envtest.Environment
	cfg       *rest.Config
	k8sClient client.Client
	ctx       context.Context
	cancel    context.CancelFunc

	cartsSvc, stocksSvc, salesSvc *participant
	cartsAPI                      *participants.Carts
	stocksAPI                     *participants.Stocks
	salesAPI                      *participants.Sales

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

	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: os.Getenv("KUBEBUILDER_ASSETS"),
	}
	var err error
	cfg, err = testEnv.Start()
	Expect(err).NotTo(HaveOccurred(), "start envtest: run `make envtest` and set KUBEBUILDER_ASSETS")
	k8sClient, err = client.New(cfg, client.Options{Scheme: manager.Scheme()})
	Expect(err).NotTo(HaveOccurred())

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

	startManager()
})

var _ = AfterSuite(func() {
	stopManager()
	cancel()
	for _, p := range []*participant{cartsSvc, stocksSvc, salesSvc} {
		if p != nil {
			p.Stop()
		}
	}
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

// testOptions is the manager configuration of the suite: the production wiring with
// short backoffs so that retries and exhaustion happen within seconds.
func testOptions() manager.Options {
	return manager.Options{
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
	}
}

// startManager starts a fresh manager, as a restarted operator pod would.
func startManager() {
	mgr, err := manager.New(cfg, testOptions())
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

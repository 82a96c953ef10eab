// Command manager runs the kubesaga operator: the Order reconciler under a controller-runtime manager.
package main

import (
	"flag"
	"os"

	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/kubesaga/kubesaga/controllers"
)

func main() {
	opts := controllers.ManagerOptions{}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	log := opts.Logger()
	ctrl.SetLogger(log)
	klog.SetLogger(log) // client-go (leader election, ...) logs through klog: same format, same sink
	if err := controllers.RunManager(ctrl.SetupSignalHandler(), ctrl.GetConfigOrDie(), opts); err != nil {
		log.Error(err, "manager stopped")
		os.Exit(1)
	}
}

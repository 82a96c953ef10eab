// Command manager runs the kubesaga operator: the Order reconciler under a controller-runtime manager.
package main

import (
	"flag"
	"os"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/kubesaga/kubesaga/controllers"
)

func main() {
	opts := controllers.ManagerOptions{}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	log := opts.Logger()
	ctrl.SetLogger(log)
	if err := controllers.RunManager(ctrl.SetupSignalHandler(), ctrl.GetConfigOrDie(), opts); err != nil {
		log.Error(err, "manager stopped")
		os.Exit(1)
	}
}

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

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

// Command localcluster runs a local Kubernetes control plane (etcd and kube-apiserver
// built by hack/envtest.sh) for development: `make cluster-up` and `make cluster-down`.
//
//	localcluster up      start it in the background; return once the API server answers
//	localcluster down    stop it; leave no etcd or kube-apiserver behind
//	localcluster status  print whether it runs (exit 1 when it does not)
//	localcluster serve   run it in the foreground until SIGTERM or ^C
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/kubesaga/kubesaga/internal/dev/localcluster"
)

var errNotRunning = errors.New("not running")

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "localcluster:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return fmt.Errorf("usage: localcluster up|down|status|serve [flags]")
	}
	command, args := args[0], args[1:]
	fs := flag.NewFlagSet("localcluster "+command, flag.ContinueOnError)
	var opts localcluster.Options
	var crdDirs string
	fs.StringVar(&opts.Dir, "dir", ".local", "directory for the kubeconfig, pid, state and log files")
	fs.StringVar(&opts.AssetsDir, "assets", os.Getenv("KUBEBUILDER_ASSETS"),
		"directory holding etcd, kube-apiserver and kubectl (default $KUBEBUILDER_ASSETS)")
	fs.StringVar(&crdDirs, "crd-dirs", "config/crd/bases", "comma-separated CRD directories to install (missing ones are skipped)")
	fs.DurationVar(&opts.StartTimeout, "start-timeout", 90*time.Second, "start timeout of each control plane component")
	fs.BoolVar(&opts.ControlPlaneOutput, "control-plane-output", false, "include etcd's and kube-apiserver's own logs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for d := range strings.SplitSeq(crdDirs, ",") {
		if d = strings.TrimSpace(d); d != "" {
			opts.CRDDirs = append(opts.CRDDirs, d)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	switch command {
	case "serve":
		return localcluster.Serve(ctx, opts)
	case "up":
		if opts.AssetsDir == "" {
			return fmt.Errorf("no envtest binaries: pass -assets or set KUBEBUILDER_ASSETS (make envtest prints it)")
		}
		self, err := os.Executable()
		if err != nil {
			return err
		}
		serve := append([]string{self, "serve"}, args...)
		if !hasFlag(args, "assets") {
			serve = append(serve, "-assets="+opts.AssetsDir)
		}
		s, err := localcluster.Up(ctx, opts, serve)
		if err != nil {
			return err
		}
		fmt.Printf("Local control plane running (pid %d) at %s\nexport KUBECONFIG=%s\n", s.PID, s.Host, s.Kubeconfig)
		return nil
	case "down":
		return localcluster.Down(opts)
	case "status":
		s, ok := localcluster.Running(opts.Dir)
		if !ok {
			return errNotRunning
		}
		fmt.Printf("running (pid %d, ready %t) at %s, kubeconfig %s\n", s.PID, s.Ready, s.Host, s.Kubeconfig)
		return nil
	default:
		return fmt.Errorf("unknown command %q: want up, down, status or serve", command)
	}
}

func hasFlag(args []string, name string) bool {
	for _, a := range args {
		a = strings.TrimLeft(a, "-")
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

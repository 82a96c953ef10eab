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

// Command kubectl-saga is a kubectl plugin for kubesaga Orders (`kubectl saga status|retry|wait|list`).
// Put it on PATH; krew-style, kubectl finds it by its name.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/kubesaga/kubesaga/internal/kubectlsaga"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := kubectlsaga.Main(ctx, os.Args[1:], kubectlsaga.Streams{Out: os.Stdout, ErrOut: os.Stderr})
	stop()
	os.Exit(code)
}

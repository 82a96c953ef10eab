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

// Command kubesaga-events follows the kubesaga event stream (NATS JetStream) and prints
// it: kubesaga-events --nats-url nats://127.0.0.1:4222 --correlation-id <Order UID>.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/kubesaga/kubesaga/internal/eventbus/eventscli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := eventscli.Main(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

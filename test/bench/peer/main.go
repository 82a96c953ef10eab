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

// Command peer is dtm's server (github.com/dtm-labs/dtm, pinned in this module's go.mod),
// the peer `make bench` measures kubesaga against. dtm's root package is a main package,
// so this wrapper calls its entry point; the admin UI of dtm's own main is left out. It
// lives in its own module so that the product module never depends on dtm. Configure it
// as dtm reads its configuration: environment variables such as HTTP_PORT, GRPC_PORT and
// JSON_RPC_PORT; the store is dtm's default (BoltDB, ./dtm.bolt in the working directory).
package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/dtm-labs/dtm/dtmsvr/entry"
)

var version = "v1.19.0"

func main() {
	app, _ := entry.Main(&version)
	if app == nil {
		return
	}
	q := make(chan os.Signal, 1)
	signal.Notify(q, syscall.SIGINT, syscall.SIGTERM)
	<-q
}

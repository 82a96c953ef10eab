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

// Command natsd (a development tool) runs a NATS server with JetStream for one machine
// (make demo): its files under --store-dir, the kubesaga stream created at start.
// Production uses a NATS cluster (docs/operations.md).
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/kubesaga/kubesaga/internal/eventbus"
	"github.com/kubesaga/kubesaga/internal/eventbus/natsembed"
)

func main() { os.Exit(run()) }

func run() int {
	fs := flag.NewFlagSet("natsd", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:4222", "client address")
	httpPort := fs.Int("http-port", 8222, "monitoring port (/healthz) on the client address's host; 0: none")
	store := fs.String("store-dir", "data/nats", "JetStream's folder")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	host, portText, err := net.SplitHostPort(*addr)
	port, perr := strconv.Atoi(portText)
	if err != nil || perr != nil {
		fmt.Fprintf(os.Stderr, "natsd: --addr %q: must be host:port\n", *addr)
		return 2
	}
	srv, err := natsembed.Start(natsembed.Options{Host: host, Port: port, HTTPPort: *httpPort, StoreDir: *store, Logs: true})
	if err != nil {
		fmt.Fprintf(os.Stderr, "natsd: %v\n", err)
		return 1
	}
	defer srv.Shutdown()
	conn, err := eventbus.Connect(eventbus.Options{URL: srv.URL(), Name: "natsd"}, nil, nil)
	if err != nil {
		fmt.Fprintf(os.Stderr, "natsd: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	_, err = eventbus.EnsureStream(ctx, conn.JS)
	cancel()
	conn.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "natsd: %v\n", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "natsd: serving %s, stream %s (subjects %s.>), store %s\n",
		srv.URL(), eventbus.StreamName, eventbus.SubjectPrefix, *store)
	sig, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-sig.Done()
	return 0
}

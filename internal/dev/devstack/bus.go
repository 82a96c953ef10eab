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

package devstack

import (
	"net"
	"path/filepath"
	"strconv"

	"github.com/kubesaga/kubesaga/internal/dev/binaries"
)

// NATS is the event bus process (bin/natsd) of a stack started with Options.Bus.
const NATS = binaries.NATS

// busDefaults picks free ports for the bus.
func (o *Options) busDefaults() error {
	if !o.Bus {
		return nil
	}
	for _, p := range []*int{&o.Ports.NATS, &o.Ports.NATSMonitor} {
		if *p == 0 {
			var err error
			if *p, err = freePort(o.Host); err != nil {
				return err
			}
		}
	}
	return nil
}

// addBus adds bin/natsd (JetStream files in Dir/nats), first, so that it starts
// before and stops after every process that publishes (NATSURL is then their
// --nats-url).
func (s *Stack) addBus() {
	if !s.opts.Bus {
		return
	}
	addr := net.JoinHostPort(s.opts.Host, strconv.Itoa(s.opts.Ports.NATS))
	monitor := "http://" + net.JoinHostPort(s.opts.Host, strconv.Itoa(s.opts.Ports.NATSMonitor))
	s.add(&Process{Name: NATS, URL: "nats://" + addr, ReadyURL: monitor + "/healthz?js-enabled-only=true",
		Args: []string{filepath.Join(s.opts.BinDir, NATS), "--addr=" + addr,
			"--http-port=" + strconv.Itoa(s.opts.Ports.NATSMonitor), "--store-dir=" + filepath.Join(s.opts.Dir, "nats")}})
}

// NATSURL is the bus's client URL ("" without a bus).
func (s *Stack) NATSURL() string { return s.URL(NATS) }

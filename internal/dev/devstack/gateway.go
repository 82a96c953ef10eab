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

// Gateway is the HTTP order API's process (cmd/gateway), started after the manager
// when Options.Gateway.Enabled and a Kubeconfig are set.
const Gateway = binaries.Gateway

// GatewayOptions configure the gateway process.
type GatewayOptions struct {
	// Enabled starts bin/gateway against Options.Kubeconfig.
	Enabled bool
	// Namespace of the Orders it creates and watches; default "default".
	Namespace string
	// TokenFile, when set, holds the bearer tokens its clients must send (not the
	// participants' Options.TokenFile: its clients are shops, not the operator).
	TokenFile string
	// Args are extra gateway flags, e.g. --default-wait=30s.
	Args []string
}

// addGateway records the gateway process on Ports.Gateway (a free one when zero).
func (s *Stack) addGateway() error {
	o := s.opts
	if !o.Gateway.Enabled || o.Kubeconfig == "" {
		return nil
	}
	port := o.Ports.Gateway
	if port == 0 {
		var err error
		if port, err = freePort(o.Host); err != nil {
			return err
		}
	}
	ns := o.Gateway.Namespace
	if ns == "" {
		ns = "default"
	}
	addr := net.JoinHostPort(o.Host, strconv.Itoa(port))
	args := []string{filepath.Join(o.BinDir, Gateway), "--addr=" + addr, "--namespace=" + ns, "--log-format=text"}
	if o.Gateway.TokenFile != "" {
		tf, err := filepath.Abs(o.Gateway.TokenFile)
		if err != nil {
			return err
		}
		args = append(args, "--token-file="+tf)
	}
	s.add(&Process{
		Name:     Gateway,
		Args:     append(args, o.Gateway.Args...),
		Env:      []string{"KUBECONFIG=" + o.Kubeconfig},
		URL:      "http://" + addr,
		ReadyURL: "http://" + addr + "/readyz",
	})
	return nil
}

// GatewayURL is the gateway's base URL, or "" when the stack has none.
func (s *Stack) GatewayURL() string { return s.URL(Gateway) }

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

// Package binaries builds kubesaga's programs from this checkout, as `make build` does,
// for the suites and the benchmark that run them as processes.
package binaries

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/kubesaga/kubesaga/internal/dev/repo"
)

// The programs, by the name of their binary (and of their cmd/ directory).
const (
	Manager = "manager"
	Carts   = "carts"
	Stocks  = "stocks"
	Sales   = "sales"
	// NATS is the event bus of one machine (cmd/natsd: NATS with JetStream).
	NATS = "natsd"
	// Gateway is the HTTP order API (cmd/gateway).
	Gateway = "gateway"
)

// Participants are the three services; All adds the manager and the gateway: what a
// stack runs.
var (
	Participants = []string{Carts, Stocks, Sales}
	All          = []string{Manager, Carts, Stocks, Sales, NATS, Gateway}
)

// Go is the go command: on PATH (make test), else $GOROOT/bin/go.
func Go() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		p := filepath.Join(root, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "go"
}

// Build builds the named programs (default All) into dir, which it creates; fast when
// the build cache is warm, as it is after `go test` compiled the packages.
func Build(ctx context.Context, dir string, names ...string) error {
	if len(names) == 0 {
		names = All
	}
	root, err := repo.Root()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	args := []string{"build", "-o", filepath.Clean(dir) + string(filepath.Separator)}
	for _, n := range names {
		args = append(args, "./cmd/"+n)
	}
	cmd := exec.CommandContext(ctx, Go(), args...) //nolint:gosec // our own packages
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

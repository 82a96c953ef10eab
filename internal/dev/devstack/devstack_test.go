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
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The stack with real binaries is exercised by test/e2e; these tests cover the parts
// that need no binary.

func TestProcessIs(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if !processIs(os.Getpid(), self) {
		t.Fatalf("processIs(self, %s) = false", self)
	}
	if processIs(os.Getpid(), "/usr/bin/not-this-program") || processIs(0, self) || processIs(-1, self) {
		t.Fatal("processIs: want false for another name and for pids 0 and -1")
	}
}

func TestWriteEnvQuotesForTheShell(t *testing.T) {
	dir := t.TempDir()
	s := &Stack{opts: Options{Dir: dir, Kubeconfig: "/tmp/it's here/kubeconfig"}, procs: map[string]*Process{}}
	s.add(&Process{Name: Carts, URL: "http://127.0.0.1:1"})
	s.add(&Process{Name: Stocks, URL: "http://127.0.0.1:2"})
	s.add(&Process{Name: Sales, URL: "http://127.0.0.1:3"})
	env := filepath.Join(dir, "x.env")
	if err := s.WriteEnv(env, map[string]string{"EXTRA": "a b"}); err != nil {
		t.Fatal(err)
	}
	script := `. "$1" && printf '%s|%s|%s|%s|%s' "$KUBECONFIG" "$CARTS_URL" "$STOCKS_URL" "$SALES_URL" "$EXTRA"`
	out, err := exec.Command("sh", "-c", script, "sh", env).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "/tmp/it's here/kubeconfig|http://127.0.0.1:1|http://127.0.0.1:2|http://127.0.0.1:3|a b"
	if string(out) != want {
		t.Fatalf("sourced env = %q, want %q", out, want)
	}
}

func TestStartWithoutBinariesFailsAndLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	_, err := Start(context.Background(), Options{Dir: filepath.Join(dir, "stack"), BinDir: filepath.Join(dir, "nothing")})
	if err == nil || !strings.Contains(err.Error(), "carts") {
		t.Fatalf("Start without binaries: err = %v, want one naming carts", err)
	}
	if left := Leftovers(dir); len(left) != 0 {
		t.Fatalf("leftovers: %v", left)
	}
	if _, err := Attach(filepath.Join(dir, "stack"), Options{}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Attach after a failed start: err = %v, want not exist", err)
	}
}

func TestOptionsNeedDirAndBinDir(t *testing.T) {
	if _, err := Start(context.Background(), Options{BinDir: "bin"}); err == nil {
		t.Fatal("want an error without Dir")
	}
	if _, err := Start(context.Background(), Options{Dir: t.TempDir()}); err == nil {
		t.Fatal("want an error without BinDir")
	}
}

func TestManagerNames(t *testing.T) {
	if got := []string{ManagerName(0), ManagerName(1), ManagerName(2)}; strings.Join(got, ",") != "manager,manager-2,manager-3" {
		t.Fatalf("ManagerName: %v", got)
	}
}

func TestProxiedIsRefusedWithDetach(t *testing.T) {
	dir := t.TempDir()
	_, err := Start(context.Background(), Options{Dir: dir, BinDir: dir, Detach: true, Proxied: []string{Stocks}})
	if err == nil || !strings.Contains(err.Error(), "Detach") {
		t.Fatalf("err = %v, want a refusal naming Detach", err)
	}
}

func TestLeaderInMetrics(t *testing.T) {
	leader := "# HELP leader_election_master_status Gauge\n# TYPE leader_election_master_status gauge\n" +
		`leader_election_master_status{name="kubesaga.saga.kubesaga.io"} 1` + "\n"
	follower := `leader_election_master_status{name="kubesaga.saga.kubesaga.io"} 0` + "\n"
	if !leaderInMetrics(leader) || leaderInMetrics(follower) || leaderInMetrics("up 1\n") {
		t.Fatal("leaderInMetrics: want true for 1 only")
	}
}

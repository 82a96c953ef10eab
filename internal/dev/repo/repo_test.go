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

package repo_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kubesaga/kubesaga/internal/dev/repo"
)

func TestRootFromASubdirectory(t *testing.T) {
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if filepath.Join(root, "internal", "dev", "repo") != wd {
		t.Fatalf("root %s is not two levels above %s", root, wd)
	}
	crds, err := repo.CRDDir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(crds, "saga.kubesaga.io_orders.yaml")); err != nil {
		t.Fatalf("CRDDir: %v", err)
	}
}

func TestNoRootOutsideTheModule(t *testing.T) {
	t.Chdir(t.TempDir())
	if _, err := repo.Root(); err == nil {
		t.Fatal("outside the checkout Root must fail")
	}
}

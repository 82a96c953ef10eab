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

// Package controlplane starts the one kind of Kubernetes control plane every kubesaga
// suite, the benchmark and `make cluster-up` use: envtest's etcd and kube-apiserver on
// 127.0.0.1 with the CRDs installed and an admin (system:masters) kubeconfig.
package controlplane

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/kubesaga/kubesaga/internal/dev/repo"
)

// AssetsEnv names the variable that points at etcd, kube-apiserver and kubectl.
const AssetsEnv = "KUBEBUILDER_ASSETS"

// Options configure a control plane. The zero value installs config/crd/bases.
type Options struct {
	// AssetsDir holds etcd, kube-apiserver and kubectl (setup-envtest's layout); empty
	// means $KUBEBUILDER_ASSETS, which wins when set (envtest's rule).
	AssetsDir string
	// CRDDirs are installed at start; nil means the module's config/crd/bases.
	CRDDirs []string
	// NoCRDs starts without any CRD (the chart tests install them with helm).
	NoCRDs bool
	// Admin is the name of the system:masters user of Kubeconfig; default "kubesaga-admin".
	Admin string
	// KubeconfigPath, when set, receives the admin kubeconfig (mode 0600).
	KubeconfigPath string
	// StartTimeout bounds the start of each component; default 90s (CI's shared cores).
	StartTimeout time.Duration
	// AttachOutput sends etcd's and kube-apiserver's own logs to this process's output.
	AttachOutput bool
}

// ControlPlane is a running etcd and kube-apiserver.
type ControlPlane struct {
	// Env is the envtest environment, for AddUser and the process details.
	Env *envtest.Environment
	// Config is the admin's: it may do anything.
	Config *rest.Config
	// Kubeconfig is the admin's kubeconfig; KubeconfigPath where it was written, if asked.
	Kubeconfig     []byte
	KubeconfigPath string
	// AssetsDir holds the binaries it runs, kubectl included.
	AssetsDir string
}

// Start starts a control plane and returns once the API server answers and the CRDs
// are established.
func Start(opts Options) (*ControlPlane, error) {
	assets := opts.AssetsDir
	if v := os.Getenv(AssetsEnv); v != "" {
		assets = v
	}
	if assets == "" {
		return nil, fmt.Errorf("control plane: %s is not set: run `make envtest` and export what it prints (make test does)", AssetsEnv)
	}
	crdDirs, err := opts.crdDirs()
	if err != nil {
		return nil, fmt.Errorf("control plane: %w", err)
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 90 * time.Second
	}
	if opts.Admin == "" {
		opts.Admin = "kubesaga-admin"
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:        crdDirs,
		ErrorIfCRDPathMissing:    len(crdDirs) > 0,
		BinaryAssetsDirectory:    assets,
		ControlPlaneStartTimeout: opts.StartTimeout,
		ControlPlaneStopTimeout:  30 * time.Second,
		AttachControlPlaneOutput: opts.AttachOutput,
	}
	if _, err := env.Start(); err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("control plane: start etcd and kube-apiserver from %s: %w", assets, err)
	}
	cp := &ControlPlane{Env: env, AssetsDir: assets}
	if err := cp.admin(opts); err != nil {
		return nil, errors.Join(fmt.Errorf("control plane: %w", err), cp.Stop())
	}
	return cp, nil
}

func (o Options) crdDirs() ([]string, error) {
	if o.NoCRDs {
		return nil, nil
	}
	if o.CRDDirs != nil {
		return o.CRDDirs, nil
	}
	d, err := repo.CRDDir()
	if err != nil {
		return nil, err
	}
	return []string{d}, nil
}

func (cp *ControlPlane) admin(opts Options) error {
	user, err := cp.Env.AddUser(envtest.User{Name: opts.Admin, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("create the admin user: %w", err)
	}
	cp.Config = user.Config()
	if cp.Kubeconfig, err = user.KubeConfig(); err != nil {
		return fmt.Errorf("render the admin kubeconfig: %w", err)
	}
	if opts.KubeconfigPath == "" {
		return nil
	}
	if cp.KubeconfigPath, err = filepath.Abs(opts.KubeconfigPath); err != nil {
		return err
	}
	tmp := cp.KubeconfigPath + ".tmp"
	if err := os.WriteFile(tmp, cp.Kubeconfig, 0o600); err != nil {
		return fmt.Errorf("write the kubeconfig: %w", err)
	}
	return os.Rename(tmp, cp.KubeconfigPath)
}

// Kubectl is the path of the kubectl built with the control plane's binaries.
func (cp *ControlPlane) Kubectl() string { return filepath.Join(cp.AssetsDir, "kubectl") }

// Stop stops kube-apiserver and etcd and removes their data.
func (cp *ControlPlane) Stop() error {
	if err := cp.Env.Stop(); err != nil {
		return fmt.Errorf("control plane: stop: %w", err)
	}
	return nil
}

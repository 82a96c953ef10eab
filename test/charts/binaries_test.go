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

package charts

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/kubesaga/kubesaga/controllers"
	"github.com/kubesaga/kubesaga/internal/dev/binaries"
)

// e. each participant binary accepts exactly what its Deployment passes.
var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// participantBinaries builds the three services once (go build caches the work).
func participantBinaries(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "kubesaga-chart-bins-"); buildErr == nil {
			buildErr = binaries.Build(context.Background(), binDir, binaries.Participants...)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func probePort(t *testing.T, ctr corev1.Container, p *corev1.Probe) int {
	t.Helper()
	if p == nil || p.HTTPGet == nil {
		t.Fatalf("container %s: probe is not an httpGet probe", ctr.Name)
	}
	if p.HTTPGet.Port.StrVal == "" {
		return p.HTTPGet.Port.IntValue()
	}
	for _, cp := range ctr.Ports {
		if cp.Name == p.HTTPGet.Port.StrVal {
			return int(cp.ContainerPort)
		}
	}
	t.Fatalf("probe port %q names no container port", p.HTTPGet.Port.StrVal)
	return 0
}

func TestParticipantBinaryAcceptsRenderedDeployment(t *testing.T) {
	for _, svc := range participants {
		t.Run(svc, func(t *testing.T) {
			bins := participantBinaries(t)
			// Only the port is chosen by the test (through the chart's own value), so that
			// the three services and other tests do not collide on 8080.
			port := freePort(t)
			var d appsv1.Deployment
			object(t, helmTemplate(t, svc, "default", "containerPort="+strconv.Itoa(port), "auth.token="+testToken), "Deployment", &d)
			pod := d.Spec.Template.Spec
			if len(pod.Containers) != 1 {
				t.Fatalf("want one container, got %d", len(pod.Containers))
			}
			ctr := pod.Containers[0]

			// Volume mounts are the one thing a process outside the pod cannot have: each
			// mountPath (/data, /tmp, /var/run/kubesaga) is rewritten to a temporary folder;
			// the Secret's token file is written there. Nothing else is changed.
			mounts := map[string]string{}
			for _, m := range ctr.VolumeMounts {
				dir := filepath.Join(t.TempDir(), m.Name)
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				for _, v := range pod.Volumes {
					if v.Name == m.Name && v.Secret != nil {
						for _, it := range v.Secret.Items {
							if err := os.WriteFile(filepath.Join(dir, it.Path), []byte(testToken+"\n"), 0o600); err != nil {
								t.Fatal(err)
							}
						}
					}
				}
				mounts[m.MountPath] = dir
			}
			rewrite := func(s string) string {
				for from, to := range mounts {
					if i := strings.Index(s, from+"/"); i >= 0 {
						return s[:i] + to + s[i+len(from):]
					}
					if strings.HasSuffix(s, "="+from) || s == from {
						return strings.TrimSuffix(s, from) + to
					}
				}
				return s
			}
			if len(ctr.Command) != 1 || ctr.Command[0] != "/"+svc {
				t.Fatalf("command is %q, want the image's binary [/%s]", ctr.Command, svc)
			}
			args := make([]string, len(ctr.Args))
			for i, a := range ctr.Args {
				args[i] = rewrite(a)
			}
			env := make([]string, 0, len(ctr.Env))
			for _, e := range ctr.Env {
				if e.ValueFrom != nil {
					t.Fatalf("env %s comes from %v: extend the test to resolve it", e.Name, e.ValueFrom)
				}
				env = append(env, e.Name+"="+rewrite(e.Value))
			}
			ctx, cancel := context.WithCancel(context.Background())
			cmd := exec.CommandContext(ctx, filepath.Join(bins, filepath.Base(ctr.Command[0])), args...)
			cmd.Env = env // exactly the rendered environment
			var logs bytes.Buffer
			cmd.Stdout, cmd.Stderr = &logs, &logs
			cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
			cmd.WaitDelay = 10 * time.Second
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// exited is closed when the process ends; waitErr is then its exit status.
			exited := make(chan struct{})
			var waitErr error
			go func() { waitErr = cmd.Wait(); close(exited) }()
			t.Cleanup(func() {
				cancel()
				<-exited
				if t.Failed() {
					t.Logf("%s output:\n%s", svc, logs.String())
				}
			})

			probes := map[string]*corev1.Probe{"readiness": ctr.ReadinessProbe, "liveness": ctr.LivenessProbe}
			for _, which := range []string{"readiness", "liveness"} {
				p := probes[which]
				pp := probePort(t, ctr, p)
				if pp != port {
					t.Errorf("%s probe port %d is not the chart's containerPort %d", which, pp, port)
				}
				url := fmt.Sprintf("http://127.0.0.1:%d%s", pp, p.HTTPGet.Path)
				deadline := time.Now().Add(30 * time.Second)
				for {
					select {
					case <-exited:
						t.Fatalf("%s exited before answering %s: %v", svc, url, waitErr)
					default:
					}
					resp, err := http.Get(url)
					if err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						_ = resp.Body.Close()
						if resp.StatusCode == http.StatusOK {
							t.Logf("%s probe GET %s: 200", which, url)
							break
						}
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
					if time.Now().After(deadline) {
						t.Fatalf("%s probe GET %s: %v", which, url, err)
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
			// The rendered --token-file is in force: the API refuses a call without the token
			// and accepts it with the token from the Secret's volume.
			for _, tc := range []struct {
				auth string
				want func(int) bool
			}{
				{"", func(c int) bool { return c == http.StatusUnauthorized }},
				{"Bearer " + testToken, func(c int) bool { return c != http.StatusUnauthorized && c < 500 }},
			} {
				req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/api/events?correlationId=x", port), nil)
				if err != nil {
					t.Fatal(err)
				}
				if tc.auth != "" {
					req.Header.Set("Authorization", tc.auth)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_ = resp.Body.Close()
				if !tc.want(resp.StatusCode) {
					t.Errorf("GET /api/events with Authorization %q: %d", strings.Fields(tc.auth + " -")[0], resp.StatusCode)
				}
			}
			// The database is where the chart put it: on the /data volume.
			if _, err := os.Stat(filepath.Join(mounts["/data"], svc+".db")); err != nil {
				t.Errorf("no database on the /data volume: %v", err)
			}
		})
	}
}

// f. the manager accepts every rendered argument.
func TestManagerAcceptsRenderedArgs(t *testing.T) {
	for i, set := range variants[operator] {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			var d appsv1.Deployment
			object(t, helmTemplate(t, operator, "kubesaga", set...), "Deployment", &d)
			ctr := d.Spec.Template.Spec.Containers[0]
			if !slices.Equal(ctr.Command, []string{"/manager"}) {
				t.Errorf("command is %q, want [/manager] (the image's binary)", ctr.Command)
			}
			var o controllers.ManagerOptions
			fs := flag.NewFlagSet("manager", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			o.BindFlags(fs)
			if err := fs.Parse(ctr.Args); err != nil {
				t.Fatalf("the manager refuses the rendered args %q: %v", ctr.Args, err)
			}
			if fs.NArg() != 0 {
				t.Fatalf("the manager would ignore %q", fs.Args())
			}
			if err := o.Validate(); err != nil {
				t.Fatalf("the manager refuses the rendered settings: %v", err)
			}
			if !o.LeaderElect || o.LeaderElectionNamespace != "kubesaga" {
				t.Errorf("leader election: %v in %q, want on in the release namespace", o.LeaderElect, o.LeaderElectionNamespace)
			}
			if o.ProbeAddr != ":8081" || o.MetricsAddr != ":8080" {
				t.Errorf("probe/metrics addresses %q/%q, want :8081/:8080", o.ProbeAddr, o.MetricsAddr)
			}
			for _, p := range []*corev1.Probe{ctr.LivenessProbe, ctr.ReadinessProbe} {
				if probePort(t, ctr, p) != 8081 {
					t.Errorf("probe %s is not on the probe port 8081", p.HTTPGet.Path)
				}
			}
			if o.CartsURL != "http://carts:8080" {
				t.Errorf("carts URL %q", o.CartsURL)
			}
			hasToken := slices.Contains(set, "auth.token="+testToken)
			if hasToken != (o.TokenFile == "/var/run/kubesaga/token") {
				t.Errorf("token file %q with auth.token set=%v", o.TokenFile, hasToken)
			}
		})
	}
}

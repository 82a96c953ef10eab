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

package controllers_test

import (
	"flag"
	"strings"
	"testing"

	"github.com/kubesaga/kubesaga/controllers"
)

func parseFlags(t *testing.T, args ...string) controllers.ManagerOptions {
	t.Helper()
	var o controllers.ManagerOptions
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	o.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return o
}

func TestDefaultsAreValid(t *testing.T) {
	o := parseFlags(t)
	if err := o.Validate(); err != nil {
		t.Fatalf("defaults must be valid: %v", err)
	}
	if o.KubeAPIQPS <= 20 {
		t.Fatalf("kube-api-qps default %v: client-go's 20 QPS would cap throughput", o.KubeAPIQPS)
	}
	if _, err := o.Participants(); err != nil {
		t.Fatalf("default participant URLs: %v", err)
	}
}

func TestValidateNamesTheFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--step-timeout=0s"}, "--step-timeout"},
		{[]string{"--max-concurrent-reconciles=0"}, "--max-concurrent-reconciles"},
		{[]string{"--max-steps-per-pass=0"}, "--max-steps-per-pass"},
		{[]string{"--log-format=xml"}, "--log-format"},
		{[]string{"--max-attempts=0"}, "retry flags"},
	} {
		o := parseFlags(t, tc.args...)
		err := o.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: want an error naming %s, got %v", tc.args, tc.want, err)
		}
	}
	o := parseFlags(t, "--carts-url=carts:8080")
	if _, err := o.Participants(); err == nil || !strings.Contains(err.Error(), "--carts-url") {
		t.Errorf("a URL without scheme must be refused naming --carts-url, got %v", err)
	}
}

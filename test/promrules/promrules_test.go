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

// Package promrules checks kubesaga's alert rules and Grafana dashboard with Prometheus'
// own parsers: every rule file parses and validates as `promtool check rules` would
// (model/rulefmt), every alert links a runbook that exists, and the metric names used by
// the rules and the dashboard (found by walking each PromQL expression's syntax tree) are
// exactly test/monitoring/testdata/monitoring-metrics.txt, which test/monitoring checks
// against the binaries' real /metrics.
//
// It is a module of its own: github.com/prometheus/prometheus (rulefmt pulls in the PromQL
// engine and its storage) is far too heavy a dependency for the product's go.mod.
package promrules

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

var root = filepath.Join("..", "..")

// promql is Prometheus' own PromQL parser, with its default functions.
var promql = parser.NewParser(parser.Options{})

const runbookBase = "https://github.com/kubesaga/kubesaga/blob/main/docs/runbooks"

// metricNames returns the metric names a PromQL expression selects.
func metricNames(t *testing.T, expr string) []string {
	t.Helper()
	e, err := promql.ParseExpr(expr)
	if err != nil {
		t.Errorf("PromQL %q does not parse: %v", expr, err)
		return nil
	}
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			name := vs.Name
			if name == "" {
				t.Errorf("PromQL %q selects by labels only; name the metric", expr)
			}
			names = append(names, name)
		}
		return nil
	})
	return names
}

func rulesFile(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "charts", "kubesaga", "files", "prometheus-rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The chart replaces RUNBOOK_BASE_URL with monitoring.prometheusRule.runbookBaseURL.
	return []byte(strings.ReplaceAll(string(b), "RUNBOOK_BASE_URL", runbookBase))
}

// TestRulesParseAndLinkRunbooks: promtool's parser accepts the rules; each alert has a
// severity, a summary and a runbook_url whose docs/runbooks file exists; and the alerts the
// issue asks for are all there.
func TestRulesParseAndLinkRunbooks(t *testing.T) {
	groups, errs := rulefmt.Parse(rulesFile(t), false, model.UTF8Validation, promql, nil)
	for _, err := range errs {
		t.Errorf("rulefmt: %v", err)
	}
	if len(errs) > 0 {
		t.FailNow()
	}
	var alerts []string
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			alerts = append(alerts, r.Alert)
			if r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("alert %s needs a severity label and a summary", r.Alert)
			}
			want := runbookBase + "/" + r.Alert + ".md"
			if r.Annotations["runbook_url"] != want {
				t.Errorf("alert %s: runbook_url %q, want %q", r.Alert, r.Annotations["runbook_url"], want)
			}
			if _, err := os.Stat(filepath.Join(root, "docs", "runbooks", r.Alert+".md")); err != nil {
				t.Errorf("alert %s: its runbook docs/runbooks/%s.md does not exist", r.Alert, r.Alert)
			}
		}
	}
	for _, want := range []string{"KubesagaSagaStalled", "KubesagaSagaRetryingPastLimit", "KubesagaSagaInFlightTooLong",
		"KubesagaParticipantErrorRate", "KubesagaNoLeader"} {
		if !slices.Contains(alerts, want) {
			t.Errorf("alert %s is missing (have %v)", want, alerts)
		}
	}
	// Every runbook belongs to an alert.
	runbooks, _ := filepath.Glob(filepath.Join(root, "docs", "runbooks", "*.md"))
	for _, rb := range runbooks {
		if name := strings.TrimSuffix(filepath.Base(rb), ".md"); !slices.Contains(alerts, name) {
			t.Errorf("docs/runbooks/%s.md has no alert", name)
		}
	}
	// Negative control: the parser does refuse a broken rule.
	bad := []byte("groups:\n- name: x\n  rules:\n  - alert: Broken\n    expr: sum(rate(x[5m]) > 0\n")
	if _, errs := rulefmt.Parse(bad, false, model.UTF8Validation, promql, nil); len(errs) == 0 {
		t.Error("rulefmt accepted a rule with unbalanced parentheses: the check above proves nothing")
	}
}

// grafanaVar matches the dashboard's Grafana variables, replaced before PromQL parsing.
var grafanaVar = regexp.MustCompile(`\$(__rate_interval|__interval|__range|\{?[a-z_]+\}?)`)

func dashboardExprs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "charts", "kubesaga", "files", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	var exprs []string
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs = append(exprs, grafanaVar.ReplaceAllStringFunc(tg.Expr, func(v string) string {
				if strings.HasPrefix(v, "$__") {
					return "5m"
				}
				return "x"
			}))
		}
	}
	return exprs
}

func TestRulesAndDashboardUseExactlyTheCheckedMetrics(t *testing.T) {
	used := map[string]bool{}
	groups, errs := rulefmt.Parse(rulesFile(t), false, model.UTF8Validation, promql, nil)
	if len(errs) > 0 {
		t.Fatalf("rulefmt: %v", errs)
	}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			for _, n := range metricNames(t, r.Expr) {
				used[n] = true
			}
		}
	}
	exprs := dashboardExprs(t)
	if len(exprs) < 10 {
		t.Fatalf("the dashboard has %d queries", len(exprs))
	}
	for _, e := range exprs {
		for _, n := range metricNames(t, e) {
			used[n] = true
		}
	}
	f, err := os.Open(filepath.Join(root, "test", "monitoring", "testdata", "monitoring-metrics.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	listed := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			listed[l] = true
		}
	}
	for n := range used {
		if !listed[n] {
			t.Errorf("the rules or the dashboard use %s: add it to test/monitoring/testdata/monitoring-metrics.txt (test/monitoring then checks the binaries export it)", n)
		}
	}
	for n := range listed {
		if !used[n] {
			t.Errorf("monitoring-metrics.txt lists %s, which neither the rules nor the dashboard use", n)
		}
	}
	if t.Failed() {
		names := make([]string, 0, len(used))
		for n := range used {
			names = append(names, n)
		}
		sort.Strings(names)
		t.Logf("used: %s", strings.Join(names, "\n"))
	}
}

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
	"io"
	"net/http"
	"strings"
	"time"
)

// IsLeader reports whether the named manager replica holds the leader election lease,
// as its metrics endpoint tells (controller-runtime's leader_election_master_status
// gauge is 1 on the leader only). A replica that does not answer is not the leader.
func (s *Stack) IsLeader(ctx context.Context, name string) bool {
	if !s.Running(name) {
		return false
	}
	u := s.URL(name)
	if u == "" {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u+"/metrics", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return false
	}
	return leaderInMetrics(string(b))
}

// leaderInMetrics reports whether a Prometheus text exposition says its process
// holds a leader election lease.
func leaderInMetrics(text string) bool {
	for line := range strings.SplitSeq(text, "\n") {
		if strings.HasPrefix(line, "leader_election_master_status{") && strings.HasSuffix(strings.TrimSpace(line), "} 1") {
			return true
		}
	}
	return false
}

// Leaders lists the manager replicas that report holding the lease (one, normally;
// none during a takeover).
func (s *Stack) Leaders(ctx context.Context) []string {
	var out []string
	for _, name := range s.ManagerNames() {
		if s.IsLeader(ctx, name) {
			out = append(out, name)
		}
	}
	return out
}

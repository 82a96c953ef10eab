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

package main

import (
	"context"
	"encoding/json"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
)

// statusSize is the mean JSON size of a succeeded Order's status in run, and the managed
// fields entries (manager, operation, subresource) of one of them, as the API server
// stores them.
func statusSize(ctx context.Context, cl client.Client, run string) (float64, []string) {
	var l sagav1.OrderList
	if err := cl.List(ctx, &l, client.InNamespace(benchNS), client.MatchingLabels{runLabel: run}, client.Limit(200)); err != nil {
		return 0, nil
	}
	var total, n int
	var fields []string
	for i := range l.Items {
		o := &l.Items[i]
		if o.Status.Phase != sagav1.PhaseSucceeded {
			continue
		}
		b, _ := json.Marshal(&o.Status)
		total += len(b)
		n++
		if fields == nil {
			fields = []string{}
			for _, m := range o.ManagedFields {
				sub := m.Subresource
				if sub == "" {
					sub = "(main resource)"
				}
				fields = append(fields, fmt.Sprintf("%s %s %s", m.Manager, m.Operation, sub))
			}
		}
	}
	if n == 0 {
		return 0, nil
	}
	return float64(total) / float64(n), fields
}

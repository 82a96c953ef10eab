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

package security_test

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kubesaga/kubesaga/services/httpapi"
)

type call struct {
	method, path, body string
}

// routes lists every API route of each service with a body that would be
// accepted, plus paths that no route serves.
func routes(name string) []call {
	id, order := uuid.NewString(), uuid.NewString()
	priced := `{"storeId":1,"lines":[{"productId":1,"quantity":1,"unitPrice":"1.00"}]}`
	common := []call{
		{"GET", "/api/events?correlationId=" + order, ""},
		{"GET", "/", ""}, {"GET", "/api/nope", ""}, {"OPTIONS", "/api/events", ""},
		{"POST", "/healthz", "{}"}, {"GET", "/healthz/", ""}, {"DELETE", "/metrics", ""},
	}
	switch name {
	case "carts":
		return append(common,
			call{"POST", "/api/carts", priced},
			call{"GET", "/api/carts/" + id, ""},
			call{"POST", "/api/carts/" + id + "/lock", `{"orderId":"` + order + `"}`},
			call{"POST", "/api/carts/" + id + "/unlock", `{"orderId":"` + order + `"}`},
			call{"POST", "/api/carts/" + id + "/checkout", `{"orderId":"` + order + `"}`},
		)
	case "stocks":
		return append(common,
			call{"PUT", "/api/stocks/1/1", `{"quantity":5}`},
			call{"GET", "/api/stocks/1/1", ""},
			call{"PUT", "/api/reservations/" + id, `{"storeId":1,"lines":[{"productId":1,"quantity":1}]}`},
			call{"GET", "/api/reservations/" + id, ""},
			call{"DELETE", "/api/reservations/" + id, ""},
			call{"POST", "/api/reservations/" + id + "/commit", ""},
		)
	default:
		return append(common,
			call{"PUT", "/api/sales/" + id, `{"storeId":1,"orderId":"` + order + `","lines":[{"productId":1,"quantity":1,"unitPrice":"1.00"}]}`},
			call{"GET", "/api/sales/" + id, ""},
			call{"GET", "/api/sales", ""},
			call{"DELETE", "/api/sales/" + id, ""},
		)
	}
}

func TestEveryRouteNeedsTheToken(t *testing.T) {
	const wrong = "5d41402abc4b2a76b9719d911017c592deadbeefcafF"
	for _, svc := range services {
		t.Run(svc.name, func(t *testing.T) {
			in := start(t, svc.name)
			in.do("PUT", "/api/stocks/1/1", []byte(`{"quantity":3}`)) // something to protect (stocks)
			before := snapshot(t, in.DB)
			refused := 0
			for _, c := range routes(svc.name) {
				for _, auth := range []string{"", "Bearer " + wrong, "Bearer " + token[:20], "Basic " + token, "Bearer", token,
					"Bearer " + token + " " + token} {
					var body []byte
					if c.body != "" {
						body = []byte(c.body)
					}
					r := in.do(c.method, c.path, body, "Authorization", auth)
					p := r.problem(t, 401)
					if p.Slug() != httpapi.SlugUnauthorized {
						t.Fatalf("%s %s with %q: %+v", c.method, c.path, auth, p)
					}
					if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
						t.Fatalf("%s %s: WWW-Authenticate %q", c.method, c.path, r.Header.Get("WWW-Authenticate"))
					}
					if strings.Contains(string(r.Body), token[:20]) || strings.Contains(string(r.Body), wrong) {
						t.Fatalf("the 401 repeats a token: %s", r.Body)
					}
					refused++
				}
			}
			sameRows(t, before, snapshot(t, in.DB))

			// Probes and metrics stay open (NetworkPolicies guard them); the failures are counted.
			in.healthy(t)
			m := in.do("GET", "/metrics", nil, "Authorization", "").must(t, 200)
			total := 0
			for _, reason := range []string{"missing", "malformed", "invalid"} {
				re := regexp.MustCompile(`(?m)^kubesaga_auth_failures_total\{reason="` + reason + `",service_name="` + svc.name + `"\} (\d+)$`)
				sm := re.FindSubmatch(m.Body)
				if sm == nil {
					t.Fatalf("no kubesaga_auth_failures_total{reason=%q} in /metrics", reason)
				}
				n, _ := strconv.Atoi(string(sm[1]))
				total += n
			}
			if total != refused {
				t.Fatalf("kubesaga_auth_failures_total sums to %d, want %d", total, refused)
			}

			// With the token every route is served (whatever the business answer).
			for _, c := range routes(svc.name) {
				var body []byte
				if c.body != "" {
					body = []byte(c.body)
				}
				if r := in.do(c.method, c.path, body); r.Status == 401 {
					t.Fatalf("%s %s refused with the token: %s", c.method, c.path, r.Body)
				}
			}
			logs := in.Logs.String()
			if strings.Contains(logs, token[:20]) || strings.Contains(logs, wrong) {
				t.Fatalf("a token appears in the log:\n%s", logs)
			}
			if !strings.Contains(logs, "request refused: bearer token") {
				t.Fatalf("refusals not logged:\n%s", logs)
			}
		})
	}
}

// TestTokenRotatesWithoutRestart rewrites the token file under a running service.
func TestTokenRotatesWithoutRestart(t *testing.T) {
	in := start(t, "stocks")
	const next = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b"
	in.do("PUT", "/api/stocks/1/1", []byte(`{"quantity":1}`)).must(t, 200)
	tmp := in.TokenFile + ".new"
	if err := os.WriteFile(tmp, []byte(next+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, in.TokenFile); err != nil { // the kubelet swaps a Secret volume atomically too
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for in.do("PUT", "/api/stocks/1/1", []byte(`{"quantity":2}`)).Status != 401 {
		if time.Now().After(deadline) {
			t.Fatal("old token still accepted 5s after the rotation")
		}
		time.Sleep(20 * time.Millisecond)
	}
	in.do("PUT", "/api/stocks/1/1", []byte(`{"quantity":3}`), "Authorization", "Bearer "+next).must(t, 200)
	r := in.do("GET", "/api/stocks/1/1", nil, "Authorization", "Bearer "+next).must(t, 200)
	if !strings.Contains(string(r.Body), `"quantity":3`) {
		t.Fatalf("level %s, want 3", r.Body)
	}
	if logs := in.Logs.String(); strings.Contains(logs, next) || strings.Contains(logs, token) {
		t.Fatalf("a token appears in the log:\n%s", logs)
	} else if !strings.Contains(logs, "token file changed") {
		t.Fatalf("rotation not logged:\n%s", logs)
	}
}

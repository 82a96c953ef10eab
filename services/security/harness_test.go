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
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the services' driver, to read their files from the outside

	"github.com/kubesaga/kubesaga/internal/dev/inprocess"
	"github.com/kubesaga/kubesaga/services/carts"
	"github.com/kubesaga/kubesaga/services/httpapi"
	"github.com/kubesaga/kubesaga/services/sales"
	"github.com/kubesaga/kubesaga/services/stocks"
)

const token = "5d41402abc4b2a76b9719d911017c592deadbeefcafe"

// services are the three participant services, run by start.
var services = []struct{ name string }{{carts.Name}, {stocks.Name}, {sales.Name}}

// instance is a service run as its binary runs it (serve.Run on a real
// listener, a real SQLite file, --token-file).
type instance struct {
	t         testing.TB
	URL       string
	DB        string
	TokenFile string
	Logs      *inprocess.LogBuffer
	http      *http.Client
}

// start runs the named service as its binary does, with a token file holding token.
func start(t testing.TB, name string) *instance {
	t.Helper()
	dir := t.TempDir()
	in := &instance{t: t, DB: filepath.Join(dir, name+".db"), TokenFile: filepath.Join(dir, "token"), Logs: &inprocess.LogBuffer{},
		http: &http.Client{Timeout: 30 * time.Second}}
	if err := os.WriteFile(in.TokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	in.URL = inprocess.AsBinary(t, name, inprocess.Binary{DB: in.DB, TokenFile: in.TokenFile, Logs: in.Logs})
	return in
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// do sends a request; body is sent verbatim (nil: none); headers are name, value
// pairs. The bearer token is sent unless an Authorization header is given ("" to
// send none).
func (in *instance) do(method, path string, body []byte, headers ...string) response {
	in.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, in.URL+path, rd)
	if err != nil {
		in.t.Fatalf("new request %s %s: %v", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] == "Authorization" && headers[i+1] == "" {
			req.Header.Del("Authorization")
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := in.http.Do(req)
	if err != nil {
		in.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		in.t.Fatalf("%s %s: read: %v", method, path, err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func (in *instance) json(method, path string, v any, headers ...string) response {
	in.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		in.t.Fatal(err)
	}
	return in.do(method, path, b, headers...)
}

// must fails unless the answer has the status.
func (r response) must(t testing.TB, status int) response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	return r
}

// problem fails unless r is a problem document with a 4xx status (want, when
// not 0) and returns it.
func (r response) problem(t testing.TB, want int) httpapi.Problem {
	t.Helper()
	if r.Status < 400 || r.Status > 499 || (want != 0 && r.Status != want) {
		t.Fatalf("status %d, want 4xx (%d): %.300s", r.Status, want, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != httpapi.ContentTypeProblem {
		t.Fatalf("Content-Type %q, want %s: %.300s", ct, httpapi.ContentTypeProblem, r.Body)
	}
	var p httpapi.Problem
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("problem %.300s: %v", r.Body, err)
	}
	if p.Status != r.Status || p.Title == "" || p.Detail == "" || !strings.HasPrefix(p.Type, httpapi.ProblemBase) {
		t.Fatalf("problem %+v", p)
	}
	if len(r.Body) > 4096 {
		t.Fatalf("problem document of %d bytes: a refusal must not echo the input", len(r.Body))
	}
	return p
}

// snapshot reads every row of every table of the service's database through a
// separate read-only connection (WAL lets it read beside the service).
func snapshot(t testing.TB, dbPath string) map[string][]string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=query_only(ON)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if len(tables) < 3 {
		t.Fatalf("only tables %v in %s", tables, dbPath)
	}
	out := map[string][]string{}
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		var all []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			all = append(all, fmt.Sprintf("%q", vals))
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		slices.Sort(all)
		out[table] = all
	}
	return out
}

// sameRows fails with the tables that differ.
func sameRows(t testing.TB, before, after map[string][]string) {
	t.Helper()
	for table := range after {
		if _, ok := before[table]; !ok {
			t.Errorf("table %s appeared", table)
		}
	}
	for table, rows := range before {
		got, ok := after[table]
		if !ok {
			t.Errorf("table %s disappeared", table)
			continue
		}
		if !slices.Equal(rows, got) {
			t.Errorf("table %s changed: %d rows before, %d after", table, len(rows), len(got))
		}
	}
}

// healthy fails unless the service still answers its probes and a read.
func (in *instance) healthy(t testing.TB) {
	t.Helper()
	in.do("GET", "/healthz", nil, "Authorization", "").must(t, 200)
	in.do("GET", "/readyz", nil, "Authorization", "").must(t, 200)
	in.do("GET", "/api/events?correlationId=x", nil).must(t, 200)
}

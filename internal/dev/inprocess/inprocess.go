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

// Package inprocess serves the three participant services (carts, stocks, sales) inside
// the calling process: each its real handler on a real SQLite file, over real HTTP on
// 127.0.0.1. The controller suite, the client tests and the benchmarks share it; a service
// can be taken down and brought back on the same address and database, and can answer
// injected errors.
package inprocess

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubesaga/kubesaga/internal/ordersaga"
	"github.com/kubesaga/kubesaga/internal/participants"
	"github.com/kubesaga/kubesaga/services/carts"
	"github.com/kubesaga/kubesaga/services/sales"
	"github.com/kubesaga/kubesaga/services/serve"
	"github.com/kubesaga/kubesaga/services/stocks"
)

// Names are the services, in start order.
var Names = []string{carts.Name, stocks.Name, sales.Name}

// Opener opens a service on its SQLite file, as serve.Run does.
type Opener func(dbPath string, logger *slog.Logger) (serve.Service, error)

func adapt[S serve.Service](open func(string, *slog.Logger) (S, error)) Opener {
	return func(db string, l *slog.Logger) (serve.Service, error) { return open(db, l) }
}

var openers = map[string]Opener{carts.Name: adapt(carts.Open), stocks.Name: adapt(stocks.Open), sales.Name: adapt(sales.Open)}

// Open returns the opener of the named service.
func Open(name string) (Opener, error) {
	o, ok := openers[name]
	if !ok {
		return nil, fmt.Errorf("inprocess: unknown service %q: want one of %s", name, strings.Join(Names, ", "))
	}
	return o, nil
}

// Service is one participant served in this process.
type Service struct {
	Name   string
	DBPath string
	open   Opener

	mu      sync.Mutex
	addr    string
	srv     *http.Server
	db      io.Closer
	failing map[string]int    // "METHOD /path-prefix" -> status answered instead of serving
	details map[string]string // "METHOD /path-prefix" -> the detail of that answer's problem
	after   func(r *http.Request)
}

// New returns the named service (carts, stocks or sales) with its database in dir; it
// serves once started.
func New(name, dir string) (*Service, error) {
	o, err := Open(name)
	if err != nil {
		return nil, err
	}
	return &Service{Name: name, DBPath: filepath.Join(dir, name+".db"), open: o, failing: map[string]int{}}, nil
}

// URL is the service's base URL (known once started).
func (s *Service) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "http://" + s.addr
}

// Start opens the database and serves: on a free port the first time, on the same
// address after a Stop (waiting up to 5s for the port, as a restarted service would).
func (s *Service) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return nil
	}
	db, err := s.open(s.DBPath, slog.New(slog.DiscardHandler))
	if err != nil {
		return fmt.Errorf("open %s: %w", s.Name, err)
	}
	addr := s.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := listen(addr, 5*time.Second)
	if err != nil {
		return errors.Join(fmt.Errorf("listen for %s: %w", s.Name, err), db.Close())
	}
	s.addr, s.db = l.Addr().String(), db
	s.srv = &http.Server{Handler: s.wrap(db.Handler()), ReadHeaderTimeout: 5 * time.Second}
	go func(srv *http.Server) { _ = srv.Serve(l) }(s.srv)
	return nil
}

func listen(addr string, patience time.Duration) (net.Listener, error) {
	deadline := time.Now().Add(patience)
	for {
		l, err := net.Listen("tcp", addr)
		if err == nil || time.Now().After(deadline) {
			return l, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Running reports whether the service serves (started and not stopped).
func (s *Service) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv != nil
}

// Stop takes the service down: its port refuses connections and its database is closed.
func (s *Service) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return nil
	}
	err := s.srv.Close()
	s.srv = nil
	return errors.Join(err, s.closeDB())
}

// CloseDB closes the database while the service keeps serving: every call that needs it
// fails with a 5xx, as a service whose disk went away.
func (s *Service) CloseDB() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeDB()
}

func (s *Service) closeDB() error {
	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	return err
}

// FailWith makes the requests whose "METHOD path" starts with prefix answer status (with
// a problem document) instead of being served.
func (s *Service) FailWith(prefix string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failing[prefix] = status
	delete(s.details, prefix)
}

// FailWithDetail is FailWith with the problem's detail (e.g. a very long one).
func (s *Service) FailWithDetail(prefix string, status int, detail string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failing[prefix] = status
	if s.details == nil {
		s.details = map[string]string{}
	}
	s.details[prefix] = detail
}

// Heal stops every injected failure.
func (s *Service) Heal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failing = map[string]int{}
	s.details = nil
}

// AfterServe sets a function called after each request was served (nil to clear).
func (s *Service) AfterServe(f func(r *http.Request)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.after = f
}

func (s *Service) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		status, detail := 0, ""
		for prefix, st := range s.failing {
			if strings.HasPrefix(r.Method+" "+r.URL.Path, prefix) {
				status, detail = st, s.details[prefix]
			}
		}
		after := s.after
		s.mu.Unlock()
		if status != 0 {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(status)
			if detail != "" {
				_ = json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": "injected fault", "status": status, "detail": detail})
				return
			}
			_, _ = io.WriteString(w, `{"type":"about:blank","title":"injected fault","status":`+strconv.Itoa(status)+`}`)
			return
		}
		h.ServeHTTP(w, r)
		if after != nil {
			after(r)
		}
	})
}

// Set is the three services.
type Set struct {
	Carts, Stocks, Sales *Service
}

// Start starts the three services with their databases in dir.
func Start(dir string) (*Set, error) {
	set := &Set{}
	slots := []**Service{&set.Carts, &set.Stocks, &set.Sales}
	for i, name := range Names {
		svc, err := New(name, dir)
		if err == nil {
			err = svc.Start()
		}
		if err != nil {
			return nil, errors.Join(err, set.Stop())
		}
		*slots[i] = svc
	}
	return set, nil
}

// All lists the started services in start order.
func (set *Set) All() []*Service {
	var out []*Service
	for _, s := range []*Service{set.Carts, set.Stocks, set.Sales} {
		if s != nil {
			out = append(out, s)
		}
	}
	return out
}

// Stop stops every service.
func (set *Set) Stop() error {
	all := set.All()
	errs := make([]error, 0, len(all))
	for _, s := range all {
		errs = append(errs, s.Stop())
	}
	return errors.Join(errs...)
}

// Clients returns the typed clients of the three services, sharing one keep-alive pool.
func (set *Set) Clients(o participants.Options) (ordersaga.Participants, error) {
	hc := participants.NewHTTPClient(o)
	c, err := participants.NewCarts(set.Carts.URL(), hc, o)
	if err != nil {
		return ordersaga.Participants{}, err
	}
	st, err := participants.NewStocks(set.Stocks.URL(), hc, o)
	if err != nil {
		return ordersaga.Participants{}, err
	}
	sa, err := participants.NewSales(set.Sales.URL(), hc, o)
	if err != nil {
		return ordersaga.Participants{}, err
	}
	return ordersaga.Participants{Carts: c, Stocks: st, Sales: sa}, nil
}

// ForTest starts the named service in a temporary directory of t and stops it when
// the test ends.
func ForTest(t testing.TB, name string) *Service {
	t.Helper()
	s, err := New(name, t.TempDir())
	if err == nil {
		err = s.Start()
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	return s
}

// SetForTest starts the three services in a temporary directory of t and stops them
// when the test ends.
func SetForTest(t testing.TB) *Set {
	t.Helper()
	set, err := Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = set.Stop() })
	return set
}

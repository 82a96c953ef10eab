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

package faultproxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"path"
	"strconv"
	"sync"
	"time"
)

// routeFault makes requests of one route answer an HTTP status instead of reaching the
// upstream, until a time.
type routeFault struct {
	method, pattern string // pattern as path.Match, e.g. /api/reservations/*/commit
	status          int
	until           time.Time
}

// routes holds the route faults of a Proxy.
type routes struct {
	mu     sync.Mutex
	faults []routeFault
}

// FailRoute makes requests with method whose path matches pattern (path.Match, e.g.
// "/api/reservations/*/commit") answer status with a problem document for the next d,
// without reaching the upstream; other requests pass. It reads HTTP/1.1 on connections
// accepted while a route fault is set, so it drops the open connections first (their
// callers see a broken connection, as with a restarted service).
func (p *Proxy) FailRoute(method, pattern string, status int, d time.Duration) {
	p.routes.mu.Lock()
	p.routes.faults = append(p.routes.faults, routeFault{method: method, pattern: pattern, status: status, until: time.Now().Add(d)})
	p.routes.mu.Unlock()
	p.CloseConns()
}

// routeActive reports whether a route fault is set (new connections then read HTTP).
func (p *Proxy) routeActive() bool {
	p.routes.mu.Lock()
	defer p.routes.mu.Unlock()
	now := time.Now()
	for _, f := range p.routes.faults {
		if now.Before(f.until) {
			return true
		}
	}
	return false
}

// faultFor returns the status a request must answer instead of being forwarded, or 0.
func (p *Proxy) faultFor(r *http.Request) int {
	p.routes.mu.Lock()
	defer p.routes.mu.Unlock()
	now := time.Now()
	for _, f := range p.routes.faults {
		if ok, _ := path.Match(f.pattern, r.URL.Path); ok && r.Method == f.method && now.Before(f.until) {
			return f.status
		}
	}
	return 0
}

// forwardHTTP serves one client connection request by request: a request of a failing
// route is answered by the proxy, any other is forwarded and its response copied back.
func (p *Proxy) forwardHTTP(client, up net.Conn) {
	in, fromUp := bufio.NewReader(client), bufio.NewReader(up)
	for {
		req, err := http.ReadRequest(in)
		if err != nil {
			return
		}
		if status := p.faultFor(req); status != 0 {
			_, _ = io.Copy(io.Discard, req.Body)
			_ = req.Body.Close()
			body := fmt.Sprintf(`{"type":"about:blank","title":"injected fault","status":%d,"detail":"faultproxy: %s %s fails"}`,
				status, req.Method, req.URL.Path)
			if _, err := fmt.Fprintf(client, "HTTP/1.1 %d %s\r\nContent-Type: application/problem+json\r\nContent-Length: %s\r\n\r\n%s",
				status, http.StatusText(status), strconv.Itoa(len(body)), body); err != nil {
				return
			}
			continue
		}
		if err := req.Write(up); err != nil {
			return
		}
		resp, err := http.ReadResponse(fromUp, req)
		if err != nil {
			return
		}
		err = resp.Write(client)
		_ = resp.Body.Close()
		if err != nil {
			return
		}
	}
}

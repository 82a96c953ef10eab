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

// Package faultproxy (a development tool, not the product) is a tiny TCP proxy for fault
// injection in tests: it forwards every connection to an upstream address and can be
// switched, at run time, to delay every chunk it forwards (a service that answers past the
// caller's timeout) or to refuse new connections, and can make one HTTP route answer an
// error status for a while (FailRoute). It does not parse HTTP: a delayed
// request still reaches the upstream after the delay, as on a slow network, even if the
// caller gave up.
package faultproxy

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy forwards connections from its listener to Upstream.
type Proxy struct {
	upstream string
	ln       net.Listener
	delay    atomic.Int64 // nanoseconds added before forwarding each chunk
	refuse   atomic.Bool

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup

	accepted, delayed atomic.Int64

	routes routes // see FailRoute
}

// Start listens on listenAddr (e.g. 127.0.0.1:0) and forwards to upstream.
func Start(listenAddr, upstream string) (*Proxy, error) {
	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		return nil, err
	}
	p := &Proxy{upstream: upstream, ln: ln, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the proxy's listening address (host:port).
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL is http://Addr.
func (p *Proxy) URL() string { return "http://" + p.Addr() }

// Upstream is the address the proxy forwards to.
func (p *Proxy) Upstream() string { return p.upstream }

// SetDelay makes the proxy wait d before forwarding each chunk, in both directions,
// on every connection, new or open; 0 forwards at once.
func (p *Proxy) SetDelay(d time.Duration) { p.delay.Store(int64(d)) }

// Delay is the current delay.
func (p *Proxy) Delay() time.Duration { return time.Duration(p.delay.Load()) }

// SetRefuse makes the proxy close new connections at once (connection reset).
func (p *Proxy) SetRefuse(on bool) { p.refuse.Store(on) }

// Stats returns the connections accepted and the chunks delayed so far.
func (p *Proxy) Stats() (accepted, delayed int64) { return p.accepted.Load(), p.delayed.Load() }

// CloseConns drops every open connection (the callers see a broken connection).
func (p *Proxy) CloseConns() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		_ = c.Close()
	}
}

// Close stops listening, drops every connection and waits for the proxy's goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	err := p.ln.Close()
	p.CloseConns()
	p.wg.Wait()
	return err
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		p.accepted.Add(1)
		if p.refuse.Load() || !p.track(c) {
			_ = c.Close()
			continue
		}
		p.wg.Add(1)
		go p.handle(c)
	}
}

func (p *Proxy) handle(client net.Conn) {
	defer p.wg.Done()
	defer p.untrack(client)
	defer func() { _ = client.Close() }()
	up, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
	if err != nil {
		return // the caller sees the connection closed, as with a service that is down
	}
	if !p.track(up) {
		_ = up.Close()
		return
	}
	defer p.untrack(up)
	defer func() { _ = up.Close() }()
	if p.routeActive() {
		p.forwardHTTP(client, up) // route faults need HTTP; delays do not apply here
		return
	}
	done := make(chan struct{}, 2)
	go func() { p.pipe(up, client); done <- struct{}{} }()
	go func() { p.pipe(client, up); done <- struct{}{} }()
	<-done // one side ended: close both, which ends the other
	_ = client.Close()
	_ = up.Close()
	<-done
}

// pipe copies src to dst chunk by chunk, waiting the current delay before each chunk.
func (p *Proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if d := p.Delay(); d > 0 {
				p.delayed.Add(1)
				time.Sleep(d)
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				return
			}
			if tc, ok := dst.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
			return
		}
	}
}

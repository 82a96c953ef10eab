package controllers_test

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/gomega"

	"github.com/kubesaga/kubesaga/services/carts"
	"github.com/kubesaga/kubesaga/services/sales"
	"github.com/kubesaga/kubesaga/services/stocks"
)

// participant runs one real participant service (its real handler on a real SQLite file)
// on a fixed loopback address, and can be taken down (connections refused) and brought
// back on the same address and database, as a crashed and restarted service would.
type participant struct {
	name   string
	dbPath string
	addr   string
	open   func(dbPath string) (http.Handler, io.Closer, error)

	mu      sync.Mutex
	srv     *http.Server
	closer  io.Closer
	failing map[string]int // "METHOD /path-prefix" -> HTTP status answered instead of serving
	after   func(r *http.Request)
}

func newParticipant(name, dir string) *participant {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := &participant{name: name, dbPath: filepath.Join(dir, name+".db"), failing: map[string]int{}}
	switch name {
	case "carts":
		p.open = func(db string) (http.Handler, io.Closer, error) {
			s, err := carts.Open(db, quiet)
			if err != nil {
				return nil, nil, err
			}
			return s.Handler(), s, nil
		}
	case "stocks":
		p.open = func(db string) (http.Handler, io.Closer, error) {
			s, err := stocks.Open(db, quiet)
			if err != nil {
				return nil, nil, err
			}
			return s.Handler(), s, nil
		}
	case "sales":
		p.open = func(db string) (http.Handler, io.Closer, error) {
			s, err := sales.Open(db, quiet)
			if err != nil {
				return nil, nil, err
			}
			return s.Handler(), s, nil
		}
	}
	return p
}

func (p *participant) URL() string { return "http://" + p.addr }

// Start opens the database and serves on the participant's address (a new one the first time).
func (p *participant) Start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	h, c, err := p.open(p.dbPath)
	Expect(err).NotTo(HaveOccurred(), "open %s", p.name)
	addr := p.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var l net.Listener
	Eventually(func() error { l, err = net.Listen("tcp", addr); return err }).
		WithTimeout(5*time.Second).Should(Succeed(), "listen for %s", p.name)
	p.addr = l.Addr().String()
	p.closer = c
	p.srv = &http.Server{Handler: p.wrap(h), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = p.srv.Serve(l) }()
}

// Stop takes the service down: its port refuses connections and its database is closed.
func (p *participant) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv == nil {
		return
	}
	_ = p.srv.Close()
	Expect(p.closer.Close()).To(Succeed())
	p.srv = nil
}

// FailWith makes requests whose "METHOD path" starts with prefix answer status instead.
func (p *participant) FailWith(prefix string, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failing[prefix] = status
}

// Heal stops every injected failure.
func (p *participant) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failing = map[string]int{}
}

// AfterServe sets a function called after each request was served (nil to clear).
func (p *participant) AfterServe(f func(r *http.Request)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.after = f
}

func (p *participant) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		status := 0
		for prefix, s := range p.failing {
			if strings.HasPrefix(r.Method+" "+r.URL.Path, prefix) {
				status = s
			}
		}
		after := p.after
		p.mu.Unlock()
		if status != 0 {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, `{"type":"about:blank","title":"injected fault","status":`+strconv.Itoa(status)+`}`)
			return
		}
		h.ServeHTTP(w, r)
		if after != nil {
			after(r)
		}
	})
}

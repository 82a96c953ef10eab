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

// Package auth guards a participant service with a bearer token read from a file
// (a mounted Kubernetes Secret). The file is re-read at most once per
// CheckInterval, so a rotated Secret applies without a restart.
//
// The file holds one token per line; blank lines and surrounding spaces are
// ignored and every token listed is accepted. The operator sends the first line.
// That makes a rotation without refused calls possible with one shared Secret:
// "old\nnew" (everyone accepts both, the operator still sends old), then
// "new\nold" (the operator sends new), then "new".
//
// Every request needs the token except GET and HEAD of /healthz, /readyz and
// /metrics (probes and Prometheus, kept out by NetworkPolicies instead). A
// missing or wrong token is answered 401 with a problem document and a
// WWW-Authenticate: Bearer header before the service reads the body or touches
// its database. Tokens are compared in constant time (as SHA-256 digests, so
// that their length does not leak either) and never logged.
package auth

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kubesaga/kubesaga/services/httpapi"
)

// MinTokenLength is the length below which a token is accepted with a warning.
const MinTokenLength = 16

// MaxTokenFileBytes bounds the token file; anything larger is a configuration error.
const MaxTokenFileBytes = 64 << 10

// Reasons label the failure counter; they never carry ids or token material.
const (
	ReasonMissing   = "missing"   // no Authorization header
	ReasonMalformed = "malformed" // not "Bearer <token>", or several Authorization headers
	ReasonInvalid   = "invalid"   // a bearer token that is not accepted
)

// Options configure a Guard.
type Options struct {
	// TokenFile is the file holding the accepted tokens, one per line.
	TokenFile string
	// Service labels the failure counter (service_name=<name>).
	Service string
	// Registerer receives kubesaga_auth_failures_total; nil registers nothing.
	Registerer prometheus.Registerer
	// Logger receives warnings (never token material); nil discards.
	Logger *slog.Logger
	// CheckInterval is how often at most the file is re-read; default one second.
	CheckInterval time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// RefusalHint ends the detail of a 401 for a token that is not accepted; default:
	// check that the operator and this service mount the same Secret.
	RefusalHint string
}

// Guard checks bearer tokens against the token file.
type Guard struct {
	file     string
	logger   *slog.Logger
	interval time.Duration
	now      func() time.Time
	failures *prometheus.CounterVec
	hint     string

	tokens    atomic.Pointer[tokenSet]
	nextCheck atomic.Int64 // unix nanoseconds
	refresh   sync.Mutex   // one reader of the file at a time; others keep the current set

	readFailing bool // guarded by refresh: log a read failure once per streak

	lastLog    atomic.Int64 // unix nanoseconds of the last failure log line
	suppressed atomic.Int64 // failures not logged since
}

// tokenSet is the parsed content of the file.
type tokenSet struct {
	raw     [sha256.Size]byte // digest of the whole file, to notice a change
	digests [][sha256.Size]byte
}

// New reads the token file once; it fails when the file cannot be read or holds
// no token, so that a service never starts open by mistake.
func New(o Options) (*Guard, error) {
	if o.TokenFile == "" {
		return nil, errors.New("auth: empty token file path")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.CheckInterval <= 0 {
		o.CheckInterval = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RefusalHint == "" {
		o.RefusalHint = "check that the operator and this service mount the same Secret"
	}
	g := &Guard{
		file:     o.TokenFile,
		logger:   o.Logger,
		interval: o.CheckInterval,
		now:      o.Now,
		hint:     o.RefusalHint,
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "kubesaga_auth_failures_total",
			Help:        "Requests refused with 401 because the bearer token was missing, malformed or not accepted.",
			ConstLabels: prometheus.Labels{"service_name": o.Service}, // not "service": see httpapi.ServiceLabel
		}, []string{"reason"}),
	}
	for _, r := range []string{ReasonMissing, ReasonMalformed, ReasonInvalid} {
		g.failures.WithLabelValues(r) // expose zeros, so that rate() works from the start
	}
	if o.Registerer != nil {
		if err := o.Registerer.Register(g.failures); err != nil {
			return nil, fmt.Errorf("auth: register metrics: %w", err)
		}
	}
	set, short, err := readTokens(g.file)
	if err != nil {
		return nil, err
	}
	g.tokens.Store(set)
	g.nextCheck.Store(g.now().Add(g.interval).UnixNano())
	g.logger.Info("bearer token required on the API", "tokenFile", g.file, "tokens", len(set.digests))
	if short {
		g.logger.Warn("a bearer token is shorter than recommended; use at least 32 random bytes (openssl rand -hex 32)",
			"minLength", MinTokenLength)
	}
	return g, nil
}

// readTokens parses the file. short reports a token under MinTokenLength.
func readTokens(path string) (set *tokenSet, short bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, fmt.Errorf("auth: read token file: %w", err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, MaxTokenFileBytes+1)); err != nil {
		return nil, false, fmt.Errorf("auth: read token file %s: %w", path, err)
	}
	if buf.Len() > MaxTokenFileBytes {
		return nil, false, fmt.Errorf("auth: token file %s exceeds %d bytes", path, MaxTokenFileBytes)
	}
	set = &tokenSet{raw: sha256.Sum256(buf.Bytes())}
	for line := range strings.SplitSeq(buf.String(), "\n") {
		tok := strings.TrimSpace(line)
		if tok == "" {
			continue
		}
		if !validToken(tok) {
			return nil, false, fmt.Errorf("auth: token file %s: a token holds spaces or control characters", path)
		}
		short = short || len(tok) < MinTokenLength
		set.digests = append(set.digests, sha256.Sum256([]byte(tok)))
	}
	if len(set.digests) == 0 {
		return nil, false, fmt.Errorf("auth: token file %s holds no token", path)
	}
	return set, short, nil
}

// validToken accepts visible ASCII, which is what an HTTP header can carry.
func validToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// current returns the accepted tokens, re-reading the file when CheckInterval
// has passed. A file that cannot be read or holds no token leaves the previous
// tokens in force (a Secret update is an atomic symlink swap; a half-written
// file must not open the service, nor lock the operator out).
func (g *Guard) current() *tokenSet {
	now := g.now()
	if now.UnixNano() < g.nextCheck.Load() || !g.refresh.TryLock() {
		return g.tokens.Load()
	}
	defer g.refresh.Unlock()
	if now.UnixNano() < g.nextCheck.Load() { // another goroutine refreshed meanwhile
		return g.tokens.Load()
	}
	g.nextCheck.Store(now.Add(g.interval).UnixNano())
	set, short, err := readTokens(g.file)
	if err != nil {
		if !g.readFailing {
			g.logger.Warn("cannot re-read the token file; the tokens read before stay in force", "error", err)
		}
		g.readFailing = true
		return g.tokens.Load()
	}
	if g.readFailing {
		g.logger.Info("token file readable again", "tokenFile", g.file)
	}
	g.readFailing = false
	if old := g.tokens.Load(); old.raw != set.raw {
		g.tokens.Store(set)
		g.logger.Info("token file changed; new tokens in force", "tokenFile", g.file, "tokens", len(set.digests))
		if short {
			g.logger.Warn("a bearer token is shorter than recommended; use at least 32 random bytes", "minLength", MinTokenLength)
		}
	}
	return g.tokens.Load()
}

// Check returns "" when r carries an accepted bearer token, else the reason.
func (g *Guard) Check(r *http.Request) string {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return ReasonMissing
	}
	if len(values) > 1 {
		return ReasonMalformed
	}
	scheme, tok, ok := strings.Cut(strings.TrimSpace(values[0]), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return ReasonMalformed
	}
	presented := sha256.Sum256([]byte(tok))
	match := 0
	for _, d := range g.current().digests { // no early exit: the time does not tell which token matched
		match |= subtle.ConstantTimeCompare(presented[:], d[:])
	}
	if match != 1 {
		return ReasonInvalid
	}
	return ""
}

// Public reports whether a request may go without a token: GET or HEAD of the
// probes and the metrics. Everything else, unknown paths included, needs it.
func Public(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	switch r.URL.Path {
	case "/healthz", "/readyz", "/metrics":
		return true
	}
	return false
}

// Wrap requires an accepted token on every request that is not Public.
func (g *Guard) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if Public(r) {
			next.ServeHTTP(w, r)
			return
		}
		if reason := g.Check(r); reason != "" {
			g.refuse(w, r, reason)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// refuse answers 401 without reading the body and counts the failure.
func (g *Guard) refuse(w http.ResponseWriter, r *http.Request, reason string) {
	g.failures.WithLabelValues(reason).Inc()
	g.logFailure(r, reason)
	challenge := `Bearer realm="kubesaga"`
	detail := "this endpoint requires an Authorization: Bearer header with the token shared with the operator"
	if reason != ReasonMissing {
		challenge += `, error="invalid_token"`
		detail = "the bearer token is not accepted; " + g.hint
	}
	w.Header().Set("WWW-Authenticate", challenge)
	w.Header().Set("Cache-Control", "no-store")
	httpapi.WriteProblem(w, httpapi.NewProblem(http.StatusUnauthorized, httpapi.SlugUnauthorized, "Unauthorized", detail))
}

// logFailure logs at most one line per second (a scanner must not flood the
// log), with the count of failures left out since. It never logs the header.
func (g *Guard) logFailure(r *http.Request, reason string) {
	now := g.now().UnixNano()
	last := g.lastLog.Load()
	if now-last < int64(time.Second) || !g.lastLog.CompareAndSwap(last, now) {
		g.suppressed.Add(1)
		return
	}
	g.logger.WarnContext(r.Context(), "request refused: bearer token "+reason,
		"method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr,
		"correlationId", r.Header.Get(httpapi.HeaderCorrelationID),
		"suppressedSinceLast", g.suppressed.Swap(0))
}

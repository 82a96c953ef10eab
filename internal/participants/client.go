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

package participants

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/propagation"

	"github.com/kubesaga/kubesaga/internal/tracing"
)

type correlationKey struct{}

// WithCorrelationID returns a context whose calls carry X-Correlation-ID: id.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey{}, id)
}

// CorrelationHeader names the header that ties a participant's events to a saga.
const CorrelationHeader = "X-Correlation-ID"

// Options tune the HTTP client shared by the participant clients.
type Options struct {
	// Timeout bounds one call; a call past it is a transient fault.
	Timeout time.Duration
	// MaxIdleConnsPerHost keeps connections alive between reconciles; the default of 2
	// in net/http would reopen connections under concurrent reconciles.
	MaxIdleConnsPerHost int
	// TokenFunc, when set, returns a bearer token sent on every call (TokenFile
	// builds one); an empty token sends no Authorization header.
	TokenFunc func() (string, error)
}

// TokenFile returns a TokenFunc that reads path on every call, so that a rotated
// Secret applies without a restart. The file may list several tokens, one per
// line (the participants accept all of them); the first non-blank line is sent.
func TokenFile(path string) func() (string, error) {
	return func() (string, error) {
		f, err := os.Open(path)
		if err != nil {
			return "", err
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, 64<<10))
		if err != nil {
			return "", err
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			if tok := strings.TrimSpace(line); tok != "" {
				return tok, nil
			}
		}
		return "", fmt.Errorf("token file %s holds no token", path)
	}
}

// NewHTTPClient returns an http.Client with a keep-alive pool sized for concurrent reconciles.
func NewHTTPClient(o Options) *http.Client {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.MaxIdleConnsPerHost <= 0 {
		o.MaxIdleConnsPerHost = 64
	}
	tr := &http.Transport{
		Proxy:               nil, // participants are in-cluster; never route saga calls through a proxy
		DialContext:         (&net.Dialer{Timeout: o.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        4 * o.MaxIdleConnsPerHost,
		MaxIdleConnsPerHost: o.MaxIdleConnsPerHost,
		IdleConnTimeout:     90 * time.Second,
	}
	return &http.Client{Transport: tr, Timeout: o.Timeout}
}

// base is what the three clients share: a base URL, an http.Client and the call logic.
type base struct {
	url   string
	http  *http.Client
	token func() (string, error)
}

func newBase(rawURL string, c *http.Client, o Options) (base, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return base{}, fmt.Errorf("participant url %q: must be absolute, like http://host:port", rawURL)
	}
	if c == nil {
		c = NewHTTPClient(o)
	}
	return base{url: strings.TrimRight(rawURL, "/"), http: c, token: o.TokenFunc}, nil
}

// problem is an RFC 9457 problem document.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// do sends one call and decodes a 2xx answer into out (when non-nil). A 4xx answer is a
// *Refusal, except 401 and 403 (see ErrUnauthorized); anything else that is not 2xx
// is a *TransientError.
func (b base) do(ctx context.Context, op, method string, t target, in, out any) (err error) {
	path := t.path
	ctx, span := startCall(ctx, op, method, b.url+path, t.route)
	status := 0
	defer func() { endCall(span, status, err) }()
	var body io.Reader
	if in != nil {
		buf, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s: encode request: %w", op, err)
		}
		body = bytes.NewReader(buf)
	}
	req, err := b.newRequest(ctx, op, method, b.url+path, body)
	if err != nil {
		return err
	}
	resp, err := b.http.Do(req)
	if err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			// The caller gave up (the manager shuts down): no fault of the participant's,
			// so not transient. Past its deadline a call is transient (a timeout).
			return fmt.Errorf("%s: %w", op, err)
		}
		return &TransientError{Op: op, Err: err}
	}
	defer func() {
		// Drain so the connection goes back to the keep-alive pool.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close()
	}()
	status = resp.StatusCode
	return decodeResponse(op, resp, out)
}

// newRequest builds a call with the protocol's headers: content type, correlation id and
// the bearer token (read now, so that a rotated token applies at once).
func (b base) newRequest(ctx context.Context, op, method, target string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	tracing.Inject(ctx, propagation.HeaderCarrier(req.Header)) // traceparent: the participant continues the trace
	if id, ok := ctx.Value(correlationKey{}).(string); ok && id != "" {
		req.Header.Set(CorrelationHeader, id)
	}
	if b.token != nil {
		tok, err := b.token()
		if err != nil {
			return nil, &TransientError{Op: op, Err: fmt.Errorf("read token: %w", err)}
		}
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
	}
	return req, nil
}

func decodeResponse(op string, resp *http.Response, out any) error {
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		if out == nil || resp.StatusCode == http.StatusNoContent {
			return nil
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out); err != nil {
			return &TransientError{Op: op, Err: fmt.Errorf("decode %d answer: %w", resp.StatusCode, err)}
		}
		return nil
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		// Not a refusal: the participant applied nothing and said nothing about the
		// business. The token file is re-read on every call, so the next attempt may
		// carry the right token (a Secret reaches pods at different moments during a
		// rotation). A saga must not fail an order, nor count a compensation as done,
		// because of a credentials fault; before the pivot retries run out into Exhausted,
		// after it they go on (with the RetryLimitExceeded alarm).
		const hint = "check that the operator's --token-file and the participant's token file hold the same token"
		return &TransientError{Op: op, Err: fmt.Errorf("%w (%d): %s", ErrUnauthorized, resp.StatusCode, hint)}
	case resp.StatusCode >= 400 && resp.StatusCode < 500 &&
		resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests:
		p := readProblem(resp.Body)
		if p.Title == "" {
			p.Title = http.StatusText(resp.StatusCode)
		}
		return &Refusal{Status: resp.StatusCode, Type: Cut(problemSlug(p.Type)), Title: Cut(p.Title), Detail: Cut(p.Detail)}
	default:
		p := readProblem(resp.Body)
		msg := p.Detail
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		return &TransientError{Op: op, Err: fmt.Errorf("%d %s", resp.StatusCode, Cut(msg))}
	}
}

// readProblem decodes a problem document of up to 1 MiB (a longer or broken one reads as
// empty): its text is cut before use, so a large one costs nothing downstream.
func readProblem(body io.Reader) problem {
	var p problem
	_ = json.NewDecoder(io.LimitReader(body, 1<<20)).Decode(&p)
	return p
}

// MaxText bounds a participant's text (a problem's detail, an error message) kept by the
// operator: it goes into an Order's status several times (lastError, steps[], conditions,
// history) and into Events, and an Order's size is bounded by the API server.
const MaxText = 1024

// Cut returns s, or its first MaxText bytes (on a rune boundary) marked as cut.
func Cut(s string) string {
	if len(s) <= MaxText {
		return s
	}
	n := MaxText
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return fmt.Sprintf("%s… [cut: %d bytes in all]", s[:n], len(s))
}

// IsTransient reports whether err is worth retrying: a fault that may heal (a 5xx, a
// timeout, a connection error, a 401/403). A refusal is not, nor is a call whose context
// the caller cancelled.
func IsTransient(err error) bool {
	var t *TransientError
	return errors.As(err, &t)
}

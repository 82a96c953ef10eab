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
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Endpoint calls any path of one participant: the generic form of the typed clients,
// for sagas written as templates. It shares their protocol (correlation id, bearer
// token, problem+json) and their outcome classes: 2xx success, 4xx a *Refusal, and 401,
// 403, 408, 429, 5xx, timeouts and connection errors a *TransientError.
type Endpoint struct{ base }

// NewEndpoint returns an endpoint of the participant at baseURL; c may be nil to build a
// client from o.
func NewEndpoint(baseURL string, c *http.Client, o Options) (*Endpoint, error) {
	b, err := newBase(baseURL, c, o)
	return &Endpoint{b}, err
}

// Answer is what a participant answered: its status code (0 when no answer came) and, for
// a 2xx, its body (at most maxBody bytes were read).
type Answer struct {
	Status int
	Body   []byte
}

// ErrOversized is wrapped by the error of a 2xx answer whose body is over the limit.
var ErrOversized = errors.New("answer over the size limit")

// Call sends body (JSON, nil for none) with method to path, which JoinPath checks, and
// returns the answer and the classified error (nil on a 2xx). A 2xx body over maxBody
// bytes is a *TransientError wrapping ErrOversized.
func (e *Endpoint) Call(ctx context.Context, op, method, path string, body []byte, maxBody int) (ans Answer, err error) {
	target, err := JoinPath(e.url, path)
	if err != nil {
		return Answer{}, &Refusal{Status: http.StatusBadRequest, Type: "bad-path", Title: "Bad path", Detail: err.Error()}
	}
	ctx, span := startCall(ctx, op, method, target, "") // a template's path: no route pattern to report
	defer func() { endCall(span, ans.Status, err) }()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := e.newRequest(ctx, op, method, target, rd)
	if err != nil {
		return Answer{}, err
	}
	resp, err := e.http.Do(req)
	if err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return Answer{}, fmt.Errorf("%s: %w", op, err) // the caller gave up: not transient
		}
		return Answer{}, &TransientError{Op: op, Err: err}
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close()
	}()
	ans = Answer{Status: resp.StatusCode}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return ans, decodeResponse(op, resp, nil)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, int64(maxBody)+1))
	if err != nil {
		return ans, &TransientError{Op: op, Err: fmt.Errorf("read %d answer: %w", resp.StatusCode, err)}
	}
	if len(b) > maxBody {
		return ans, &TransientError{Op: op, Err: fmt.Errorf("%w: more than %d bytes", ErrOversized, maxBody)}
	}
	ans.Body = b
	return ans, nil
}

// JoinPath appends path to a participant's base URL. The path must start with "/" and
// may carry a query; it can never change the scheme, host, port or user, nor climb above
// the base URL's path (no "." or ".." segment, also not percent-encoded), so that a
// template's expression cannot make the operator call anything but the participant.
func JoinPath(baseURL, path string) (string, error) {
	base, err := url.Parse(baseURL)
	if err != nil || base.Host == "" {
		return "", fmt.Errorf("participant url %q is not absolute", baseURL)
	}
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") {
		return "", fmt.Errorf("path %q must start with a single /", path)
	}
	if strings.ContainsAny(path, "#\\\x00\r\n\t ") {
		return "", fmt.Errorf("path %q must not hold a fragment, a backslash, spaces or control characters", path)
	}
	rawPath, query, _ := strings.Cut(path, "?")
	for seg := range strings.SplitSeq(rawPath, "/") {
		dec, err := url.PathUnescape(seg)
		if err != nil {
			return "", fmt.Errorf("path %q: bad escape: %w", path, err)
		}
		if dec == "." || dec == ".." || strings.Contains(dec, "/") {
			return "", fmt.Errorf("path %q must not hold . or .. segments, nor an encoded /", path)
		}
	}
	target := strings.TrimRight(baseURL, "/") + rawPath
	if query != "" {
		target += "?" + query
	}
	u, err := url.Parse(target)
	if err != nil {
		return "", fmt.Errorf("path %q: %w", path, err)
	}
	if u.Scheme != base.Scheme || u.Host != base.Host || u.User.String() != base.User.String() ||
		!strings.HasPrefix(u.EscapedPath(), strings.TrimRight(base.EscapedPath(), "/")+"/") {
		return "", fmt.Errorf("path %q would leave the participant %s", path, baseURL)
	}
	return target, nil
}

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
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// FuzzDecodeResponse feeds the operator's answer decoder what a broken or hostile
// participant could send: every answer is classified as success, refusal or
// transient fault, a 401/403 is never a refusal, and nothing panics.
func FuzzDecodeResponse(f *testing.F) {
	for _, c := range []struct {
		status int
		body   string
	}{
		{200, `{"id":"x","storeId":1,"status":"OPEN","lines":[]}`}, {201, `{"id":`}, {204, ``}, {200, `[]`},
		{409, `{"type":"https://kubesaga.io/problems/insufficient-stock","title":"x","status":409}`},
		{401, `{"type":"https://kubesaga.io/problems/unauthorized"}`}, {403, ``}, {404, `not json`},
		{500, `{"detail":` + strings.Repeat("[", 10000) + `}`}, {429, ``}, {408, ``}, {302, ``}, {100, ``}, {999, `{}`},
	} {
		f.Add(c.status, []byte(c.body))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		resp := &http.Response{StatusCode: status, Body: io.NopCloser(bytes.NewReader(body)), Header: http.Header{}}
		var out Cart
		err := decodeResponse("op", resp, &out)
		var refusal *Refusal
		switch {
		case err == nil:
			if status < 200 || status > 299 {
				t.Fatalf("status %d accepted", status)
			}
		case errors.As(err, &refusal):
			if status < 400 || status > 499 || status == 401 || status == 403 || status == 408 || status == 429 || refusal.Status != status {
				t.Fatalf("status %d is a refusal %+v", status, refusal)
			}
		case IsTransient(err):
			if (status == 401 || status == 403) != errors.Is(err, ErrUnauthorized) {
				t.Fatalf("status %d: %v", status, err)
			}
		default:
			t.Fatalf("status %d: unclassified %v", status, err)
		}
	})
}

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

package auth

import (
	"net/http/httptest"
	"testing"
)

// FuzzCheck: no Authorization header value but "Bearer <the token>" (any case
// of the scheme, surrounding spaces) is accepted, and none panics.
func FuzzCheck(f *testing.F) {
	g, _, _, _, _ := newGuard(f, tokA)
	for _, s := range []string{"Bearer " + tokA, "bearer " + tokA, "Bearer " + tokB, "Bearer", "Basic " + tokA, "", " ",
		"Bearer  " + tokA + " ", "Bearer " + tokA + "\x00", "Bearer\t" + tokA, "Bearer " + tokA[:31]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		r := httptest.NewRequest("POST", "/api/x", nil)
		r.Header["Authorization"] = []string{h}
		reason := g.Check(r)
		switch reason {
		case "":
			if h != "Bearer "+tokA && !validBearer(h) {
				t.Fatalf("accepted %q", h)
			}
		case ReasonMalformed, ReasonInvalid:
		default:
			t.Fatalf("reason %q for %q", reason, h)
		}
	})
}

// validBearer is the accepted shape, written independently of Check.
func validBearer(h string) bool {
	trim := func(s string) string {
		for len(s) > 0 && isSpace(s[0]) {
			s = s[1:]
		}
		for len(s) > 0 && isSpace(s[len(s)-1]) {
			s = s[:len(s)-1]
		}
		return s
	}
	h = trim(h)
	if len(h) < 7 {
		return false
	}
	scheme := h[:6]
	if (scheme[0]|0x20) != 'b' || (scheme[1]|0x20) != 'e' || (scheme[2]|0x20) != 'a' || (scheme[3]|0x20) != 'r' ||
		(scheme[4]|0x20) != 'e' || (scheme[5]|0x20) != 'r' || h[6] != ' ' {
		return false
	}
	return trim(h[7:]) == tokA
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

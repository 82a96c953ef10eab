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

package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// FuzzDecodeBytes: any body is either one JSON object decoded without unknown
// fields, or a 400 naming a field; never a panic.
func FuzzDecodeBytes(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":"x"}`, `{"a":1}{}`, `[]`, ``, `{"a":1e400}`, `{"c":1}`, `{"a":"1"}`,
		`{"b":"\ud800"}`, strings.Repeat("[", 20000), `{"a":` + strings.Repeat("[", 10001) + `}`, "\xef\xbb\xbf{}",
		// Strict JSON: names match case-sensitively, a key appears once per object.
		`{"A":1}`, `{"B":"x"}`, `{"a":1,"a":2}`, `{"b":"x","a":1,"b":"y"}`, `{"a":1,"A":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var dst struct {
			A *int64  `json:"a"`
			B *string `json:"b"`
		}
		p := DecodeBytes(body, &dst)
		if p != nil {
			if p.Status != http.StatusBadRequest || p.Field == "" || p.Slug() != SlugInvalidRequest {
				t.Fatalf("refusal %+v", p)
			}
			if len(p.Body()) > 2048 {
				t.Fatalf("problem of %d bytes echoes the input", len(p.Body()))
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		// Accepted: a flat object whose keys are exactly "a" or "b", each at most once.
		dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))))
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			t.Fatalf("accepted %q: %v %v", body, tok, err)
		}
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			key, ok := tok.(string)
			if err != nil || !ok || seen[key] || (key != "a" && key != "b") {
				t.Fatalf("accepted %q: key %v (%v)", body, tok, err)
			}
			seen[key] = true
			if _, err := dec.Token(); err != nil {
				t.Fatalf("accepted %q: %v", body, err)
			}
		}
	})
}

// FuzzParseUUID: only the canonical form of a UUID is accepted, in lower case.
func FuzzParseUUID(f *testing.F) {
	for _, s := range []string{"0b7a9c52-3d1e-4f6a-8b2c-9d0e1f2a3b4c", "0B7A9C52-3D1E-4F6A-8B2C-9D0E1F2A3B4C",
		"{0b7a9c52-3d1e-4f6a-8b2c-9d0e1f2a3b4c}", "urn:uuid:0b7a9c52-3d1e-4f6a-8b2c-9d0e1f2a3b4c", "0b7a9c523d1e4f6a8b2c9d0e1f2a3b4c",
		"", "x", "0b7a9c52-3d1e-4f6a-8b2c-9d0e1f2a3b4g"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, p := ParseUUID("id", s)
		if p != nil {
			if p.Status != http.StatusBadRequest || p.Field != "id" {
				t.Fatalf("refusal %+v", p)
			}
			return
		}
		if len(id) != 36 || !strings.EqualFold(id, s) || id != strings.ToLower(id) || uuid.MustParse(id).String() != id {
			t.Fatalf("ParseUUID(%q) = %q", s, id)
		}
	})
}

// FuzzParseID: path ids are 1..MaxID in their one decimal spelling.
func FuzzParseID(f *testing.F) {
	for _, s := range []string{"1", "0", "-1", "01", "+1", "9007199254740991", "9007199254740992", "9223372036854775808", "1e3", " 1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, p := ParseID("storeId", s)
		if p != nil {
			return
		}
		if v < 1 || v > MaxID || strconv.FormatInt(v, 10) != s {
			t.Fatalf("ParseID(%q) = %d", s, v)
		}
	})
}

// FuzzCorrelationID: an accepted header is short printable ASCII without spaces.
func FuzzCorrelationID(f *testing.F) {
	for _, s := range []string{"", "0b7a9c52-3d1e-4f6a-8b2c-9d0e1f2a3b4c", "'; DROP TABLE carts; --", "a\x00b", strings.Repeat("x", 129), "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set(HeaderCorrelationID, s)
		v, p := CorrelationID(r, "fallback")
		if p != nil {
			return
		}
		if s == "" {
			if v != "fallback" {
				t.Fatalf("empty header gave %q", v)
			}
			return
		}
		if v != s || len(v) > maxCorrelationLen || strings.ContainsFunc(v, func(c rune) bool { return c <= ' ' || c > '~' }) {
			t.Fatalf("CorrelationID(%q) = %q", s, v)
		}
	})
}

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
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 1 << 20

// DecodeJSON reads the request body into dst, strictly: the body must be one JSON
// object of at most MaxBodyBytes with no unknown fields, field names spelled exactly
// (case included), no key twice in an object, no type mismatches and nothing after it.
// A Content-Type, when sent, must be JSON. Any failure is a 400 problem naming the
// field or the rule, so the caller writes nothing.
func DecodeJSON(w http.ResponseWriter, r *http.Request, dst any) *Problem {
	body, p := ReadBody(w, r)
	if p != nil {
		return p
	}
	return DecodeBytes(body, dst)
}

// ReadBody reads the body under DecodeJSON's size and media type rules. Services
// read first and decode with DecodeBytes, so that their decoders can be fuzzed
// on plain bytes.
func ReadBody(w http.ResponseWriter, r *http.Request) ([]byte, *Problem) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, Invalid("Content-Type", "must be application/json")
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, Invalid("body", fmt.Sprintf("must not exceed %d bytes", MaxBodyBytes))
		}
		return nil, Invalid("body", "could not be read")
	}
	return body, nil
}

// ReadRequest reads the body (ReadBody) and validates it with the service's decoder.
func ReadRequest[T any](w http.ResponseWriter, r *http.Request, decode func(body []byte) (T, *Problem)) (T, *Problem) {
	body, p := ReadBody(w, r)
	if p != nil {
		var zero T
		return zero, p
	}
	return decode(body)
}

// DecodeBytes applies DecodeJSON's rules to a body already read; fuzz tests use it.
func DecodeBytes(body []byte, dst any) *Problem {
	if len(body) > MaxBodyBytes {
		return Invalid("body", fmt.Sprintf("must not exceed %d bytes", MaxBodyBytes))
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return Invalid("body", "must be a JSON object, got an empty body")
	}
	if trimmed[0] != '{' {
		return Invalid("body", "must be a JSON object")
	}
	if p := checkKeys(trimmed, dst); p != nil {
		return p
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeProblem(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Invalid("body", "must contain a single JSON object and nothing after it")
	}
	return nil
}

func decodeProblem(err error) *Problem {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return Invalid("body", fmt.Sprintf("malformed JSON at byte %d", syntax.Offset))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return Invalid(field, "must be "+jsonKind(typ.Type.Kind().String())+", got "+typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return Invalid("body", "truncated JSON")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if name == "" { // {"":1}: a problem must still name where it is
			return Invalid("body", `has an unknown field ""`)
		}
		return Invalid(name, "unknown field")
	default:
		return Invalid("body", "invalid JSON: "+err.Error())
	}
}

// jsonKind names Go kinds the way a JSON client thinks of them.
func jsonKind(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"):
		return "an integer"
	case strings.HasPrefix(k, "float"):
		return "a number"
	case k == "string":
		return "a string"
	case k == "bool":
		return "a boolean"
	case k == "slice", k == "array":
		return "an array"
	case k == "struct", k == "map":
		return "an object"
	default:
		return k
	}
}

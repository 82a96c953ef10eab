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
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// ContentTypeJSON is the media type of every non-error body.
const ContentTypeJSON = "application/json"

// Encode marshals v for a response body. It is separate from WriteJSON so that
// idempotent handlers can store exactly the bytes they send, and replay them.
func Encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// WriteJSON sends v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	b, err := Encode(v)
	if err != nil {
		return err
	}
	WriteRaw(w, status, ContentTypeJSON, b)
	return nil
}

// WriteRaw sends already-encoded bytes.
func WriteRaw(w http.ResponseWriter, status int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client went away; nothing useful to do
}

// Answer is a complete response decided inside a transaction and written after
// it commits. Idempotent calls store it to replay it byte for byte.
type Answer struct {
	Status int
	Body   []byte // JSON, or a problem document when Status >= 400; nil for 204
}

// ProblemAnswer turns a problem into an Answer.
func ProblemAnswer(p *Problem) Answer { return Answer{Status: p.Status, Body: p.Body()} }

// JSONAnswer encodes v into an Answer.
func JSONAnswer(status int, v any) (Answer, error) {
	b, err := Encode(v)
	if err != nil {
		return Answer{}, fmt.Errorf("encode answer: %w", err)
	}
	return Answer{Status: status, Body: b}, nil
}

// WriteAnswer sends a, as a problem document when it is an error.
func WriteAnswer(w http.ResponseWriter, a Answer) {
	switch {
	case a.Status == http.StatusNoContent || a.Body == nil:
		w.WriteHeader(a.Status)
	case a.Status >= 400:
		WriteRaw(w, a.Status, ContentTypeProblem, a.Body)
	default:
		WriteRaw(w, a.Status, ContentTypeJSON, a.Body)
	}
}

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
	"log/slog"
	"net/http"
)

// ProblemBase prefixes every problem type URI. Clients classify a problem by the
// slug that follows it, never by the title or detail, which are for people.
const ProblemBase = "https://kubesaga.io/problems/"

// Problem slugs used by the participant protocol.
const (
	SlugInvalidRequest      = "invalid-request"      // 400: the request itself is wrong
	SlugUnauthorized        = "unauthorized"         // 401: bearer token missing or wrong
	SlugNotFound            = "not-found"            // 404
	SlugMethodNotAllowed    = "method-not-allowed"   // 405
	SlugConflict            = "conflict"             // 409: a caller-chosen id is taken by another body
	SlugCartUnavailable     = "cart-unavailable"     // 409: cart held by another order or checked out
	SlugInsufficientStock   = "insufficient-stock"   // 409: a reservation line cannot be served
	SlugAlreadyCompensated  = "already-compensated"  // 409: the undo of this call already ran
	SlugIdempotencyMismatch = "idempotency-mismatch" // 422: same resource id, different body
	SlugInternal            = "internal"             // 500: a fault of the service itself
	SlugUnavailable         = "unavailable"          // 503: the service cannot serve now
)

// ContentTypeProblem is the media type of problem documents.
const ContentTypeProblem = "application/problem+json"

// Problem is an RFC 9457 problem document. Field names the offending request
// field (as a JSON path like "lines[0].quantity") when there is one; Extensions
// carries further members such as productId.
type Problem struct {
	Type       string
	Title      string
	Status     int
	Detail     string
	Field      string
	Extensions map[string]any
}

// NewProblem builds a problem whose type is ProblemBase + slug.
func NewProblem(status int, slug, title, detail string) *Problem {
	return &Problem{Type: ProblemBase + slug, Title: title, Status: status, Detail: detail}
}

// Invalid reports a 400 naming the field and the rule it breaks.
func Invalid(field, rule string) *Problem {
	p := NewProblem(http.StatusBadRequest, SlugInvalidRequest, "Invalid request", field+": "+rule)
	p.Field = field
	return p
}

// NotFound reports a 404 for the named thing.
func NotFound(detail string) *Problem {
	return NewProblem(http.StatusNotFound, SlugNotFound, "Not found", detail)
}

// AlreadyCompensated refuses a do whose undo already ran (or arrived first).
func AlreadyCompensated(detail string) *Problem {
	return NewProblem(http.StatusConflict, SlugAlreadyCompensated, "Already compensated", detail)
}

// IdempotencyMismatch refuses a repeated id that arrives with a different body.
func IdempotencyMismatch(detail string) *Problem {
	return NewProblem(http.StatusUnprocessableEntity, SlugIdempotencyMismatch, "Idempotency key reused with a different request", detail)
}

// Slug returns the part of Type after ProblemBase.
func (p *Problem) Slug() string {
	if len(p.Type) > len(ProblemBase) && p.Type[:len(ProblemBase)] == ProblemBase {
		return p.Type[len(ProblemBase):]
	}
	return p.Type
}

// Error makes a Problem usable as an error value inside handlers.
func (p *Problem) Error() string { return p.Slug() + ": " + p.Detail }

// MarshalJSON writes the standard members first, then Field and Extensions.
func (p *Problem) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, 5+len(p.Extensions))
	for k, v := range p.Extensions {
		m[k] = v
	}
	m["type"] = p.Type
	m["title"] = p.Title
	m["status"] = p.Status
	if p.Detail != "" {
		m["detail"] = p.Detail
	}
	if p.Field != "" {
		m["field"] = p.Field
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads a problem document, keeping unknown members as Extensions.
func (p *Problem) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*p = Problem{}
	for k, raw := range m {
		var err error
		switch k {
		case "type":
			err = json.Unmarshal(raw, &p.Type)
		case "title":
			err = json.Unmarshal(raw, &p.Title)
		case "status":
			err = json.Unmarshal(raw, &p.Status)
		case "detail":
			err = json.Unmarshal(raw, &p.Detail)
		case "field":
			err = json.Unmarshal(raw, &p.Field)
		default:
			var v any
			err = json.Unmarshal(raw, &v)
			if p.Extensions == nil {
				p.Extensions = map[string]any{}
			}
			p.Extensions[k] = v
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Body returns the encoded document, for callers that store answers to replay them.
func (p *Problem) Body() []byte {
	b, err := json.Marshal(p)
	if err != nil { // only maps of JSON values; cannot fail in practice
		panic(err)
	}
	return b
}

// WriteProblem sends p as application/problem+json.
func WriteProblem(w http.ResponseWriter, p *Problem) {
	WriteRaw(w, p.Status, ContentTypeProblem, p.Body())
}

// Internal logs err with the request's context and answers 500 without leaking
// the error text: a 5xx tells the saga "retry later", the log tells the operator why.
func Internal(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	logger.ErrorContext(r.Context(), "request failed",
		"method", r.Method, "route", r.Pattern, "correlationId", r.Header.Get(HeaderCorrelationID), "error", err)
	WriteProblem(w, NewProblem(http.StatusInternalServerError, SlugInternal, "Internal error",
		"the service failed to handle the request; it is safe to retry"))
}

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
	"fmt"
	"net/http"
	"strconv"

	"github.com/google/uuid"
)

// HeaderCorrelationID carries the saga's correlation id (the Order UID) on every
// saga call; services record it on their business events.
const HeaderCorrelationID = "X-Correlation-ID"

// maxCorrelationLen bounds the header so that a client cannot grow the event log
// with arbitrary text.
const maxCorrelationLen = 128

// CorrelationID returns the X-Correlation-ID header, or fallback when it is
// absent. A header that is too long or not printable ASCII is a 400.
func CorrelationID(r *http.Request, fallback string) (string, *Problem) {
	v := r.Header.Get(HeaderCorrelationID)
	if v == "" {
		return fallback, nil
	}
	if len(v) > maxCorrelationLen {
		return "", Invalid(HeaderCorrelationID, fmt.Sprintf("must not exceed %d characters", maxCorrelationLen))
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x21 || v[i] > 0x7e {
			return "", Invalid(HeaderCorrelationID, "must be printable ASCII without spaces")
		}
	}
	return v, nil
}

// ParseUUID accepts only the canonical 36-character form and returns it in lower
// case, so that one id has one spelling in keys and tombstones.
func ParseUUID(field, s string) (string, *Problem) {
	if s == "" {
		return "", Invalid(field, "is required and must be a UUID")
	}
	if len(s) != 36 {
		return "", Invalid(field, "must be a UUID like 3f2b6c1e-8d0a-4c5e-9f1b-2a7d6e4c8b90")
	}
	u, err := uuid.Parse(s)
	if err != nil {
		return "", Invalid(field, "must be a UUID like 3f2b6c1e-8d0a-4c5e-9f1b-2a7d6e4c8b90")
	}
	return u.String(), nil
}

// PathUUID reads a UUID path value.
func PathUUID(r *http.Request, name string) (string, *Problem) {
	return ParseUUID(name, r.PathValue(name))
}

// PathUUIDAndCorrelation reads what most saga calls start with: the resource id, a
// UUID path value, and the correlation id, which defaults to that id.
func PathUUIDAndCorrelation(r *http.Request, name string) (id, corr string, p *Problem) {
	if id, p = PathUUID(r, name); p != nil {
		return "", "", p
	}
	corr, p = CorrelationID(r, id)
	return id, corr, p
}

// ParseID parses a positive integer identifier (store or product) up to MaxID.
func ParseID(field, s string) (int64, *Problem) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 || v > MaxID || strconv.FormatInt(v, 10) != s {
		return 0, Invalid(field, fmt.Sprintf("must be an integer between 1 and %d", MaxID))
	}
	return v, nil
}

// Bounds shared by the participant services.
const (
	MaxID       = 1<<53 - 1 // integers above this lose precision in JavaScript clients
	MaxQuantity = 1_000_000
	MaxLines    = 1_000
)

// RequireID checks a required positive identifier field of a request body.
func RequireID(field string, v *int64) (int64, *Problem) {
	if v == nil {
		return 0, Invalid(field, "is required")
	}
	if *v <= 0 || *v > MaxID {
		return 0, Invalid(field, fmt.Sprintf("must be an integer between 1 and %d", MaxID))
	}
	return *v, nil
}

// RequireUUID checks a required UUID field of a request body (see ParseUUID).
func RequireUUID(field string, v *string) (string, *Problem) {
	if v == nil {
		return "", Invalid(field, "is required and must be a UUID")
	}
	return ParseUUID(field, *v)
}

// RequireQuantity checks a required quantity between lowest (0 or 1) and MaxQuantity.
func RequireQuantity(field string, v *int64, lowest int64) (int64, *Problem) {
	if v == nil {
		return 0, Invalid(field, "is required")
	}
	if *v < lowest || *v > MaxQuantity {
		return 0, Invalid(field, fmt.Sprintf("must be an integer between %d and %d", lowest, MaxQuantity))
	}
	return *v, nil
}

// QueryLimit reads ?limit= (default def, at most highest).
func QueryLimit(r *http.Request, def, highest int) (int, *Problem) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return def, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 || v > highest {
		return 0, Invalid("limit", fmt.Sprintf("must be an integer between 1 and %d", highest))
	}
	return v, nil
}

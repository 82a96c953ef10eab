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
	"errors"
	"fmt"
	"strings"
)

// Refusal is a business refusal: the participant answered 4xx with a problem document.
// Retrying the same call gives the same answer, so a saga compensates instead.
type Refusal struct {
	Status int    // HTTP status
	Type   string // problem type slug, e.g. "insufficient-stock"
	Title  string
	Detail string
}

func (r *Refusal) Error() string {
	msg := r.Detail
	if msg == "" {
		msg = r.Title
	}
	return fmt.Sprintf("%s (%d %s)", msg, r.Status, r.Type)
}

// TransientError is a fault that may heal: a 5xx, a timeout, a connection error, or
// a 401/403 (ErrUnauthorized).
type TransientError struct {
	Op  string
	Err error
}

func (e *TransientError) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// ErrUnauthorized is wrapped by the *TransientError of a 401 or 403 answer: the
// participant did not accept the bearer token. It is transient, not a refusal,
// because the token is re-read on every call and a rotation heals by itself; a
// token that stays wrong exhausts the retries like any other lasting fault.
// Neither the token nor the Authorization header ever appears in the error.
var ErrUnauthorized = errors.New("participant refused the bearer token")

// IsRefusal reports whether err is a business refusal.
func IsRefusal(err error) bool {
	var r *Refusal
	return errors.As(err, &r)
}

// RefusalType returns the problem type slug of a refusal, or "".
func RefusalType(err error) string {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Type
	}
	return ""
}

// problemSlug keeps the last path segment of a problem type URI, so that
// "https://kubesaga.io/problems/insufficient-stock" and "insufficient-stock" compare equal.
func problemSlug(typ string) string {
	typ = strings.TrimRight(typ, "/")
	if i := strings.LastIndex(typ, "/"); i >= 0 {
		return typ[i+1:]
	}
	return typ
}

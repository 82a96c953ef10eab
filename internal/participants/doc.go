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

// Package participants holds typed HTTP clients for the participant protocol
// (docs/participant-protocol.md): carts, stocks and sales. Every call carries the saga's
// correlation id, and every failure is either a *Refusal (the participant said no: final)
// or a transient fault (5xx, timeout, connection error: worth retrying).
package participants

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

package eventbus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// StreamName is the JetStream stream that keeps every kubesaga event.
const StreamName = "KUBESAGA"

// DuplicateWindow is how long the stream remembers message ids to drop republishes.
// A relay republishes only what it had not recorded as published: at most one batch,
// right after a restart, so minutes are plenty; see docs/events.md for the longer case.
const DuplicateWindow = 10 * time.Minute

// StreamConfig is the stream every publisher creates when it is missing: file storage,
// kept for MaxAge (7 days unless set otherwise).
func StreamConfig(replicas int, maxAge time.Duration) jetstream.StreamConfig {
	if replicas < 1 {
		replicas = 1
	}
	if maxAge <= 0 {
		maxAge = 7 * 24 * time.Hour
	}
	return jetstream.StreamConfig{
		Name:        StreamName,
		Description: "kubesaga saga and participant events (CloudEvents 1.0, structured JSON)",
		Subjects:    []string{SubjectPrefix + ".>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      maxAge,
		Duplicates:  DuplicateWindow,
		Replicas:    replicas,
	}
}

// EnsureStream creates the stream when it does not exist and leaves an existing one as
// it is (operators may have tuned it: replicas, limits).
func EnsureStream(ctx context.Context, js jetstream.JetStream) (jetstream.Stream, error) {
	s, err := js.Stream(ctx, StreamName)
	if err == nil {
		return s, nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("look up stream %s: %w", StreamName, err)
	}
	s, err = js.CreateStream(ctx, StreamConfig(1, 0))
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return js.Stream(ctx, StreamName) // created by another publisher meanwhile
	}
	if err != nil {
		return nil, fmt.Errorf("create stream %s: %w", StreamName, err)
	}
	return s, nil
}

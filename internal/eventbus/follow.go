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

	"github.com/nats-io/nats.go/jetstream"
)

// Received is an event as a consumer reads it from the stream.
type Received struct {
	Seq     uint64 // the stream sequence
	Subject string // kubesaga.<service>.<action>
	MsgID   string // the JetStream message id (equal to Event.ID)
	Event   CloudEvent
}

// FollowOptions select what Follow reads.
type FollowOptions struct {
	// Subject filters the stream (default kubesaga.>).
	Subject string
	// CorrelationID keeps only the events of one saga (the CloudEvent subject, which
	// is the Order UID for every kubesaga event).
	CorrelationID string
	// NoFollow stops after the last event stored when Follow started.
	NoFollow bool
}

// Follow reads the stream from its first event, in stream order, and calls fn for each
// event that matches, until ctx ends, fn fails, or (NoFollow) the stream's end. It uses
// an ordered consumer: nothing is created on the server that outlives the call.
func Follow(ctx context.Context, js jetstream.JetStream, o FollowOptions, fn func(Received) error) error {
	if o.Subject == "" {
		o.Subject = SubjectPrefix + ".>"
	}
	stream, err := js.Stream(ctx, StreamName)
	if err != nil {
		return fmt.Errorf("open stream %s: %w", StreamName, err)
	}
	var end uint64
	if o.NoFollow {
		last, err := stream.GetLastMsgForSubject(ctx, o.Subject)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil // nothing stored
		}
		if err != nil {
			return fmt.Errorf("read stream %s: %w", StreamName, err)
		}
		end = last.Sequence
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{o.Subject},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return fmt.Errorf("consume stream %s: %w", StreamName, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("consume stream %s: %w", StreamName, err)
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return ctx.Err()
			}
			return fmt.Errorf("read stream %s: %w", StreamName, err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("read stream %s: %w", StreamName, err)
		}
		seq := meta.Sequence.Stream
		if e, derr := Decode(msg.Data()); derr == nil && (o.CorrelationID == "" || e.Subject == o.CorrelationID) {
			if err := fn(Received{Seq: seq, Subject: msg.Subject(), MsgID: msg.Headers().Get(jetstream.MsgIDHeader), Event: e}); err != nil {
				return err
			}
		}
		if o.NoFollow && seq >= end {
			return nil
		}
	}
}

// ReadAll returns every stored event that matches o (NoFollow implied).
func ReadAll(ctx context.Context, js jetstream.JetStream, o FollowOptions) ([]Received, error) {
	o.NoFollow = true
	var out []Received
	err := Follow(ctx, js, o, func(r Received) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

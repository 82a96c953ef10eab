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

// Package eventbus is what every kubesaga publisher and consumer shares about the event
// bus: the CloudEvents 1.0 envelope, the subjects and the JetStream stream, and the
// connection to NATS. The bus is optional; nothing imports this package's connection
// unless --nats-url is set.
package eventbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// SpecVersion is the CloudEvents version of every event.
const SpecVersion = "1.0"

// ContentType is the structured-mode CloudEvents media type, sent as the message's
// Content-Type header.
const ContentType = "application/cloudevents+json"

// SubjectPrefix starts every subject: kubesaga.<service>.<action>.
const SubjectPrefix = "kubesaga"

// CloudEvent is one event in CloudEvents 1.0 structured JSON.
type CloudEvent struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject,omitempty"`
	Time            time.Time       `json:"time"`
	DataContentType string          `json:"datacontenttype,omitempty"`
	Data            json.RawMessage `json:"data,omitempty"`
}

// Subject is the NATS subject of an event of service (or "orders") and action, e.g.
// kubesaga.carts.LOCK_CART.
func Subject(service, action string) string {
	return SubjectPrefix + "." + service + "." + action
}

// Type is the CloudEvents type of an event, e.g. io.kubesaga.carts.LOCK_CART.v1.
func Type(service, action string) string {
	return "io.kubesaga." + service + "." + action + ".v1"
}

// New builds an event whose data is data marshalled as JSON.
func New(id, source, service, action, subject string, at time.Time, data any) (CloudEvent, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return CloudEvent{}, fmt.Errorf("marshal data of event %s: %w", id, err)
	}
	return CloudEvent{SpecVersion: SpecVersion, ID: id, Source: source, Type: Type(service, action),
		Subject: subject, Time: at.UTC(), DataContentType: "application/json", Data: raw}, nil
}

// Validate checks the attributes CloudEvents 1.0 requires.
func (e CloudEvent) Validate() error {
	var errs []error
	if e.SpecVersion != SpecVersion {
		errs = append(errs, fmt.Errorf("specversion %q: must be %s", e.SpecVersion, SpecVersion))
	}
	for name, v := range map[string]string{"id": e.ID, "source": e.Source, "type": e.Type} {
		if v == "" {
			errs = append(errs, fmt.Errorf("%s: must not be empty", name))
		}
	}
	return errors.Join(errs...)
}

// Publish sends e on subject with the JetStream message id set to e.ID, so that the
// server drops a republish of the same event inside the stream's duplicate window,
// and returns once the stream has stored it (or knew it already).
func Publish(ctx context.Context, js jetstream.JetStream, subject string, e CloudEvent) (*jetstream.PubAck, error) {
	body, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("marshal event %s: %w", e.ID, err)
	}
	msg := nats.NewMsg(subject)
	msg.Data = body
	msg.Header.Set("Content-Type", ContentType)
	ack, err := js.PublishMsg(ctx, msg, jetstream.WithMsgID(e.ID), jetstream.WithExpectStream(StreamName))
	if err != nil {
		return nil, fmt.Errorf("publish event %s on %s: %w", e.ID, subject, err)
	}
	return ack, nil
}

// Decode reads a stored message as a CloudEvent.
func Decode(data []byte) (CloudEvent, error) {
	var e CloudEvent
	if err := json.Unmarshal(data, &e); err != nil {
		return CloudEvent{}, fmt.Errorf("decode CloudEvent: %w", err)
	}
	if err := e.Validate(); err != nil {
		return CloudEvent{}, fmt.Errorf("decode CloudEvent: %w", err)
	}
	return e, nil
}

// Action is the last token of a subject (kubesaga.carts.LOCK_CART -> LOCK_CART).
func Action(subject string) string {
	return subject[strings.LastIndexByte(subject, '.')+1:]
}

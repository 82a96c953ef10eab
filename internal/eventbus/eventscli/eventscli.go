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

// Package eventscli is bin/kubesaga-events: it follows the kubesaga event stream on
// NATS JetStream and prints one line per event, or one CloudEvent (JSON) per line.
package eventscli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/kubesaga/kubesaga/internal/eventbus"
)

// Options are the command's flags.
type Options struct {
	NATS          eventbus.Options
	CorrelationID string
	Subject       string
	JSON          bool
	NoFollow      bool
	Timeout       time.Duration
}

// Parse reads the flags; NATS_URL and NATS_CREDS fill what is not given.
func Parse(args []string, getenv func(string) string, usage io.Writer) (Options, error) {
	fs := flag.NewFlagSet("kubesaga-events", flag.ContinueOnError)
	fs.SetOutput(usage)
	var o Options
	def := getenv("NATS_URL")
	if def == "" {
		def = "nats://127.0.0.1:4222"
	}
	fs.StringVar(&o.NATS.URL, "nats-url", def, "NATS server of the event bus (env NATS_URL)")
	fs.StringVar(&o.NATS.CredsFile, "nats-creds", getenv("NATS_CREDS"), "NATS credentials file (env NATS_CREDS)")
	fs.StringVar(&o.CorrelationID, "correlation-id", "", "only the events of one saga: the Order's UID (its correlation id)")
	fs.StringVar(&o.Subject, "subject", eventbus.SubjectPrefix+".>", "NATS subject filter, e.g. kubesaga.orders.> or kubesaga.stocks.>")
	fs.BoolVar(&o.JSON, "json", false, "print each event as one CloudEvent in JSON per line")
	fs.BoolVar(&o.NoFollow, "no-follow", false, "print what the stream holds, then exit")
	fs.DurationVar(&o.Timeout, "timeout", 10*time.Second, "how long to wait for the bus before giving up")
	if err := fs.Parse(args); err != nil {
		return Options{}, err
	}
	if fs.NArg() > 0 {
		return Options{}, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if o.NATS.URL == "" {
		return Options{}, errors.New("--nats-url must not be empty")
	}
	if !strings.HasPrefix(o.Subject, eventbus.SubjectPrefix+".") {
		return Options{}, fmt.Errorf("--subject %q: must start with %q", o.Subject, eventbus.SubjectPrefix+".")
	}
	if len(o.CorrelationID) > 128 {
		return Options{}, errors.New("--correlation-id must not exceed 128 characters")
	}
	if o.Timeout <= 0 {
		return Options{}, errors.New("--timeout must be positive")
	}
	o.NATS.Name = "kubesaga-events"
	return o, o.NATS.Validate()
}

// Run prints the stream until ctx ends (or its end, with NoFollow).
func Run(ctx context.Context, o Options, out io.Writer) error {
	conn, err := eventbus.Connect(o.NATS, nil, nil)
	if err != nil {
		return err
	}
	defer conn.Close()
	// Connect does not wait for the server; a person running this wants to know.
	deadline := time.Now().Add(o.Timeout)
	for !conn.NC.IsConnected() {
		if time.Now().After(deadline) {
			return fmt.Errorf("no NATS server at %s after %s", o.NATS.URL, o.Timeout)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(50 * time.Millisecond):
		}
	}
	enc := json.NewEncoder(out)
	err = eventbus.Follow(ctx, conn.JS, eventbus.FollowOptions{Subject: o.Subject, CorrelationID: o.CorrelationID, NoFollow: o.NoFollow},
		func(r eventbus.Received) error {
			if o.JSON {
				return enc.Encode(r.Event)
			}
			_, err := fmt.Fprintln(out, Line(r))
			return err
		})
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// Line renders an event for people: time, emitter, event, outcome, correlation id and
// what happened.
func Line(r eventbus.Received) string {
	e := r.Event
	from := strings.TrimPrefix(r.Subject, eventbus.SubjectPrefix+".")
	from = from[:max(strings.IndexByte(from, '.'), 0)]
	action := eventbus.Action(r.Subject)
	outcome, what := "", ""
	if from == eventbus.OrdersService {
		var d eventbus.OrderData
		_ = json.Unmarshal(e.Data, &d)
		what = d.Namespace + "/" + d.Name
		if d.Message != "" {
			what += ": " + d.Message
		}
	} else {
		var d eventbus.ServiceData
		_ = json.Unmarshal(e.Data, &d)
		outcome, what = d.Outcome, d.Detail
	}
	return fmt.Sprintf("%s  %-6s  %-24s %-7s  %s  %s", e.Time.UTC().Format(time.RFC3339), from, action, outcome, e.Subject, what)
}

// Main is the command's main function.
func Main(ctx context.Context, args []string) int {
	o, err := Parse(args, os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "kubesaga-events: %v\n", err)
		return 2
	}
	if err := Run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "kubesaga-events: %v\n", err)
		return 1
	}
	return 0
}

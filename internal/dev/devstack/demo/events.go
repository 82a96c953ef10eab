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

package demo

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kubesaga/kubesaga/internal/dev/devstack"
	"github.com/kubesaga/kubesaga/internal/eventbus"
	"github.com/kubesaga/kubesaga/internal/eventbus/eventscli"
)

// printEvents prints, for each sample Order, its events as the bus holds them: the
// saga log published by the operator and the business events of the services, all
// under the Order's UID as correlation id. It waits (up to a minute) until the bus
// holds every history entry, since publishing follows the saga, never the other way.
func (o *Options) printEvents(ctx context.Context, s *devstack.Stack) error {
	conn, err := eventbus.Connect(eventbus.Options{URL: s.NATSURL(), Name: "demo"}, nil, nil)
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, name := range []string{HappyOrder, RollbackOrd} {
		out, err := o.kubectlOut(ctx, "get", "order", name, "-o", "jsonpath={.metadata.uid}{\"|\"}{.status.history[*].event}")
		if err != nil {
			return err
		}
		uid, history, _ := strings.Cut(strings.TrimSpace(out), "|")
		want := len(strings.Fields(history))
		var got []eventbus.Received
		deadline := time.Now().Add(time.Minute)
		for {
			got, err = eventbus.ReadAll(ctx, conn.JS, eventbus.FollowOptions{CorrelationID: uid})
			if err == nil && countOrders(got) >= want {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the event bus at %s holds %d of the %d saga log entries of order %s (see %s/natsd.log and manager.log): %v",
					s.NATSURL(), countOrders(got), want, name, o.stackDir(), err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		_, _ = fmt.Fprintf(o.Out, "\nEvents of order %s on the bus (%s, correlation id %s): %s\n", name, s.NATSURL(), uid, strconv.Itoa(len(got)))
		for _, r := range got {
			_, _ = fmt.Fprintln(o.Out, "  "+eventscli.Line(r))
		}
	}
	return nil
}

func countOrders(rs []eventbus.Received) int {
	n := 0
	for _, r := range rs {
		if strings.HasPrefix(r.Subject, eventbus.Subject(eventbus.OrdersService, "")) {
			n++
		}
	}
	return n
}

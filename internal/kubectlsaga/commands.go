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

package kubectlsaga

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
)

// NamedURL is one participant's base URL ("" leaves it out).
type NamedURL struct{ Name, URL string }

// Participants say where status reads the participants' business events.
type Participants struct {
	URLs      []NamedURL
	TokenFile string
	// HTTP defaults to a client with a 10 s timeout.
	HTTP *http.Client
}

// ParticipantEvent is one business event of a participant (GET /api/events).
type ParticipantEvent struct {
	Action        string    `json:"action"`
	Outcome       string    `json:"outcome"`
	CorrelationID string    `json:"correlationId"`
	Detail        string    `json:"detail"`
	CreatedAt     time.Time `json:"createdAt"`
}

func getOrder(ctx context.Context, c client.Client, key client.ObjectKey) (*sagav1.Order, error) {
	var o sagav1.Order
	if err := c.Get(ctx, key, &o); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("order %q not found in namespace %q", key.Name, key.Namespace)
		}
		return nil, fmt.Errorf("get order %s: %w", key, err)
	}
	return &o, nil
}

// Status prints one view of an Order: spec, conditions, steps, history, its Kubernetes
// Events, and the business events each participant recorded for its correlation id (the
// Order's UID).
func Status(ctx context.Context, c client.Client, key client.ObjectKey, p Participants, w io.Writer) error {
	o, err := getOrder(ctx, c, key)
	if err != nil {
		return err
	}
	now := time.Now()
	fmt.Fprintf(w, "Order:          %s/%s\n", o.Namespace, o.Name)
	fmt.Fprintf(w, "UID:            %s (the participants' correlation id)\n", o.UID)
	fmt.Fprintf(w, "Cart:           %s (store %d)\n", o.Spec.CartID, o.Spec.StoreID)
	fmt.Fprintf(w, "Phase:          %s\n", or(string(o.Status.Phase), "Pending"))
	if o.Status.CurrentStep != "" {
		fmt.Fprintf(w, "Current step:   %s\n", o.Status.CurrentStep)
	}
	if o.Status.SaleID != "" {
		fmt.Fprintf(w, "Sale:           %s (total %s)\n", o.Status.SaleID, o.Status.Total)
	}
	if o.Status.LastError != "" {
		fmt.Fprintf(w, "Last error:     %s\n", o.Status.LastError)
	}
	if o.Status.NextRetryAt != nil {
		next := o.Status.NextRetryAt
		fmt.Fprintf(w, "Next retry:     %s (in %s)\n", next.UTC().Format(time.RFC3339), next.Sub(now).Round(time.Second))
	}
	if tok, ok := o.Annotations[sagav1.RetryAnnotation]; ok {
		state := "not handled yet"
		if tok == o.Status.LastHandledRetry {
			state = "handled"
		}
		fmt.Fprintf(w, "Retry asked:    %s=%s (%s)\n", sagav1.RetryAnnotation, tok, state)
	}

	section(w, "Conditions")
	tw := table(w, "TYPE", "STATUS", "REASON", "MESSAGE")
	for _, cd := range o.Status.Conditions {
		row(tw, cd.Type, string(cd.Status), cd.Reason, cd.Message)
	}
	_ = tw.Flush()

	section(w, "Steps")
	// The steps' times are in the history below (steps[] says each fact once).
	tw = table(w, "STEP", "STATE", "ATTEMPTS", "UNDO ATTEMPTS", "NEXT RETRY", "LAST ERROR")
	for _, s := range o.Status.Steps {
		row(tw, s.Name, s.State, fmt.Sprint(s.Attempts), fmt.Sprint(s.CompensationAttempts), stamp(s.NextRetryAt), s.LastError)
	}
	_ = tw.Flush()

	section(w, "History")
	tw = table(w, "TIME", "EVENT", "MESSAGE")
	for _, h := range o.Status.History {
		row(tw, stamp(&h.Time), h.Event, h.Message)
	}
	_ = tw.Flush()

	section(w, "Events")
	if err := printEvents(ctx, c, o, w); err != nil {
		fmt.Fprintf(w, "  (cannot list Events: %v)\n", err)
	}

	for _, pu := range p.URLs {
		if pu.URL == "" {
			continue
		}
		section(w, "Business events of "+pu.Name)
		evs, err := p.events(ctx, pu.URL, string(o.UID))
		if err != nil {
			fmt.Fprintf(w, "  (cannot read them: %v)\n", err)
			continue
		}
		tw = table(w, "TIME", "ACTION", "OUTCOME", "DETAIL")
		for _, e := range evs {
			row(tw, e.CreatedAt.UTC().Format(time.RFC3339), e.Action, e.Outcome, e.Detail)
		}
		_ = tw.Flush()
	}
	return nil
}

// printEvents lists the Events about this Order (by UID, so an older Order of the same
// name does not show), oldest first.
func printEvents(ctx context.Context, c client.Client, o *sagav1.Order, w io.Writer) error {
	var evs corev1.EventList
	if err := c.List(ctx, &evs, client.InNamespace(o.Namespace),
		client.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("involvedObject.uid", string(o.UID))}); err != nil {
		return fmt.Errorf("list events: %w", err)
	}
	slices.SortStableFunc(evs.Items, func(a, b corev1.Event) int { return eventTime(a).Compare(eventTime(b)) })
	tw := table(w, "TIME", "TYPE", "REASON", "MESSAGE")
	for _, e := range evs.Items {
		row(tw, eventTime(e).UTC().Format(time.RFC3339), e.Type, e.Reason, e.Message)
	}
	return tw.Flush()
}

// eventTime is when an Event last happened, whichever API wrote it.
func eventTime(e corev1.Event) time.Time {
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	default:
		return e.CreationTimestamp.Time
	}
}

func (p Participants) events(ctx context.Context, base, correlationID string) ([]ParticipantEvent, error) {
	u, err := url.Parse(strings.TrimSuffix(base, "/") + "/api/events")
	if err != nil {
		return nil, fmt.Errorf("participant URL %q: %w", base, err)
	}
	u.RawQuery = url.Values{"correlationId": {correlationID}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("participant URL %q: %w", base, err)
	}
	req.Header.Set("X-Correlation-ID", correlationID)
	if p.TokenFile != "" {
		tok, err := os.ReadFile(p.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("read --token-file: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	}
	hc := p.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", u, resp.Status, strings.TrimSpace(string(body)))
	}
	var page struct {
		Items []ParticipantEvent `json:"items"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, fmt.Errorf("GET %s: decode: %w", u, err)
	}
	return page.Items, nil
}

// Retry asks the operator to resume the Order's stalled or failed step by setting the
// retry annotation. Its value is a fresh token (a timestamp), so a second retry is a
// change too; the operator records the tokens it handled.
func Retry(ctx context.Context, c client.Client, key client.ObjectKey, w io.Writer) error {
	o, err := getOrder(ctx, c, key)
	if err != nil {
		return err
	}
	token := time.Now().UTC().Format(time.RFC3339Nano)
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"annotations":     map[string]string{sagav1.RetryAnnotation: token},
		"resourceVersion": o.ResourceVersion, // refuse to act on an Order that changed meanwhile
	}})
	if err != nil {
		return err
	}
	if err := c.Patch(ctx, o, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("annotate order %s: %w", key, err)
	}
	fmt.Fprintf(w, "order/%s retry requested (%s=%s, phase was %s)\n",
		key.Name, sagav1.RetryAnnotation, token, or(string(o.Status.Phase), "Pending"))
	return nil
}

// Wait watches the Order until its saga is final and returns the outcome. It returns an
// error when ctx ends first (timeout) or the Order is deleted.
func Wait(ctx context.Context, c client.WithWatch, key client.ObjectKey) (Outcome, error) {
	for {
		o, err := getOrder(ctx, c, key)
		if err != nil {
			return InFlight, err
		}
		if out := OutcomeOf(o); out != InFlight {
			return out, nil
		}
		out, err := watchUntilFinal(ctx, c, key, o.ResourceVersion)
		if err != nil || out != InFlight {
			return out, err
		}
		// The watch ended (server timeout, compaction): read again and watch again.
	}
}

func watchUntilFinal(ctx context.Context, c client.WithWatch, key client.ObjectKey, rv string) (Outcome, error) {
	wi, err := c.Watch(ctx, &sagav1.OrderList{}, client.InNamespace(key.Namespace),
		client.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("metadata.name", key.Name)},
		&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true}})
	if err != nil {
		if ctx.Err() != nil {
			return InFlight, fmt.Errorf("timed out waiting for order %s", key)
		}
		return InFlight, fmt.Errorf("watch order %s: %w", key, err)
	}
	defer wi.Stop()
	for {
		select {
		case <-ctx.Done():
			return InFlight, fmt.Errorf("timed out waiting for order %s", key)
		case ev, ok := <-wi.ResultChan():
			if !ok {
				return InFlight, nil
			}
			switch ev.Type {
			case watch.Deleted:
				return InFlight, fmt.Errorf("order %s was deleted before its saga finished", key)
			case watch.Error:
				return InFlight, nil // e.g. 410 Gone: start over from a fresh read
			case watch.Added, watch.Modified:
				if o, ok := ev.Object.(*sagav1.Order); ok {
					if out := OutcomeOf(o); out != InFlight {
						return out, nil
					}
				}
			}
		}
	}
}

// List prints the Orders of a namespace ("" for all), or only the Stalled ones.
func List(ctx context.Context, c client.Client, namespace string, stalledOnly bool, w io.Writer) error {
	var l sagav1.OrderList
	if err := c.List(ctx, &l, client.InNamespace(namespace)); err != nil {
		return fmt.Errorf("list orders: %w", err)
	}
	slices.SortFunc(l.Items, func(a, b sagav1.Order) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	now := time.Now()
	tw := table(w, "NAMESPACE", "NAME", "PHASE", "STEP", "AGE", "ERROR")
	n := 0
	for i := range l.Items {
		o := &l.Items[i]
		if stalledOnly && OutcomeOf(o) != Stalled {
			continue
		}
		n++
		row(tw, o.Namespace, o.Name, or(string(o.Status.Phase), "Pending"), o.Status.CurrentStep,
			now.Sub(o.CreationTimestamp.Time).Round(time.Second).String(), o.Status.LastError)
	}
	if n == 0 {
		what := "Orders"
		if stalledOnly {
			what = "stalled Orders"
		}
		where := "in namespace " + namespace
		if namespace == "" {
			where = "in any namespace"
		}
		_, err := fmt.Fprintf(w, "No %s %s.\n", what, where)
		return err
	}
	return tw.Flush()
}

func section(w io.Writer, title string) { fmt.Fprintf(w, "\n%s:\n", title) }

func table(w io.Writer, cols ...string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row(tw, cols...)
	return tw
}

func row(tw *tabwriter.Writer, cols ...string) {
	for i, c := range cols {
		cols[i] = strings.ReplaceAll(or(c, "-"), "\t", " ")
	}
	fmt.Fprintln(tw, "  "+strings.Join(cols, "\t"))
}

func stamp(t *metav1.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

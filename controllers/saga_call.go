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

package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/participants"
	"github.com/kubesaga/kubesaga/internal/saga"
	"github.com/kubesaga/kubesaga/internal/sagacel"
)

// defaultParticipantTimeout bounds a call when the Participant sets no timeout.
const defaultParticipantTimeout = 5 * time.Second

// maxAnswer bounds a response body the operator reads when the step keeps none.
const maxAnswer = 1 << 20

// call evaluates the engine's action into a request to a declared Participant, sends it,
// and classifies the outcome; on a do's success it keeps the response later steps read
// and records the step's outputs. Nothing is sent when the request cannot be built (an
// expression fails or costs too much, a body is too large, the participant is not
// declared, the path would leave it): that is a refusal — for a do, the saga compensates.
func (r *SagaReconciler) call(ctx context.Context, s *sagaScope) saga.Outcome {
	act := s.action
	undo := act.Type == saga.ActUndo
	refuse := func(err error) saga.Outcome {
		return saga.Outcome{Class: saga.Refusal, Err: fmt.Sprintf("%s: %v", act.Name, err)}
	}
	req, err := s.tpl.Request(ctx, act.Step, undo, s.vars)
	if err != nil {
		return refuse(err)
	}
	p := &sagav1.Participant{}
	if err := r.Get(ctx, types.NamespacedName{Name: req.Participant}, p); err != nil {
		if apierrors.IsNotFound(err) {
			return refuse(fmt.Errorf("participant %q is not declared: only declared Participants can be called", req.Participant))
		}
		return saga.Outcome{Class: saga.Transient, Err: fmt.Sprintf("%s: get participant: %v", act.Name, err)}
	}
	opts := participants.Options{}
	if ref := p.Spec.TokenSecretRef; ref != nil {
		opts.TokenFunc = func() (string, error) { return r.token(ctx, ref) }
	}
	ep, err := participants.NewEndpoint(p.Spec.URL, r.HTTP, opts)
	if err != nil {
		return refuse(err)
	}
	timeout := defaultParticipantTimeout
	if p.Spec.Timeout != nil && p.Spec.Timeout.Duration > 0 {
		timeout = p.Spec.Timeout.Duration
	}
	callCtx, cancel := context.WithTimeout(participants.WithCorrelationID(ctx, s.vars.UID), timeout)
	defer cancel()
	limit := maxAnswer
	if !undo && s.tpl.Keep(s.def.Steps[act.Step].Name) {
		limit = s.tpl.Limits().Response
	}
	ans, err := ep.Call(callCtx, act.Name, req.Method, req.Path, req.Body, limit)
	out := classify(ctx, act.Name, ans, err, req.Responses, timeout)
	if out.Class != saga.Success || undo {
		return out
	}
	return r.afterDo(ctx, s, ans)
}

// classify applies the step's response overrides to the participant client's classes.
func classify(parent context.Context, name string, ans participants.Answer, err error,
	overrides map[int]sagav1.ResponseClass, timeout time.Duration) saga.Outcome {
	class := saga.Success
	msg := ""
	switch {
	case err == nil:
	case participants.IsRefusal(err):
		class, msg = saga.Refusal, err.Error()
	case errors.Is(err, context.DeadlineExceeded) && parent.Err() == nil:
		class, msg = saga.Transient, fmt.Sprintf("no answer within %s", timeout)
	case errors.Is(err, participants.ErrUnauthorized):
		class, msg = saga.Transient, fmt.Sprintf("participant refused the bearer token (%d): check the Participant's tokenSecretRef", ans.Status)
	case errors.Is(err, participants.ErrOversized):
		class, msg = saga.Transient, err.Error()
	default:
		class, msg = saga.Transient, err.Error()
	}
	if c, ok := overrides[ans.Status]; ok && ans.Status != 0 {
		switch c {
		case sagav1.ResponseSuccess:
			class, msg = saga.Success, ""
		case sagav1.ResponseRefusal:
			class = saga.Refusal
		case sagav1.ResponseTransient:
			class = saga.Transient
		}
		if class != saga.Success && msg == "" {
			msg = fmt.Sprintf("answered %d, which the template counts as %s", ans.Status, c)
		}
	}
	if class == saga.Success {
		return saga.Outcome{Class: saga.Success}
	}
	return saga.Outcome{Class: class, Err: name + ": " + msg}
}

// afterDo keeps the response of a done step (when a later step reads it) and records its
// outputs. The step's effect exists, so a failure here is transient: it is retried (the
// participant answers the same), and exhausting the retries compensates the step.
func (r *SagaReconciler) afterDo(ctx context.Context, s *sagaScope, ans participants.Answer) saga.Outcome {
	act := s.action
	name := s.def.Steps[act.Step].Name
	fail := func(err error) saga.Outcome {
		return saga.Outcome{Class: saga.Transient, Err: fmt.Sprintf("%s: %v", act.Name, err)}
	}
	resp, err := decodeAnswer(ans.Body)
	if err != nil {
		return fail(fmt.Errorf("decode the %d answer: %w", ans.Status, err))
	}
	if err := s.tpl.CheckKept(name, ans.Body); err != nil {
		return fail(err)
	}
	outs, err := s.tpl.Outputs(ctx, act.Step, s.vars, resp)
	if err != nil {
		return fail(err)
	}
	if s.tpl.Keep(name) {
		s.kept[name] = string(ans.Body)
		s.vars.Responses[name] = resp
	}
	if len(outs) > 0 && s.obj.Status.Outputs == nil {
		s.obj.Status.Outputs = map[string]string{}
	}
	for k, v := range outs {
		s.obj.Status.Outputs[k] = v
	}
	return saga.Outcome{Class: saga.Success}
}

func decodeAnswer(b []byte) (any, error) {
	if strings.TrimSpace(string(b)) == "" {
		return nil, nil
	}
	return sagacel.DecodeJSON(b)
}

// token reads the Participant's bearer token from its Secret on every call, straight from
// the API server, so that a rotated token applies at once.
func (r *SagaReconciler) token(ctx context.Context, ref *sagav1.SecretKeyRef) (string, error) {
	sec := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, sec); err != nil {
		return "", fmt.Errorf("secret %s/%s: %w", ref.Namespace, ref.Name, err)
	}
	v, ok := sec.Data[ref.Key]
	if !ok {
		return "", fmt.Errorf("secret %s/%s has no key %q", ref.Namespace, ref.Name, ref.Key)
	}
	for line := range strings.SplitSeq(string(v), "\n") {
		if tok := strings.TrimSpace(line); tok != "" {
			return tok, nil
		}
	}
	return "", fmt.Errorf("secret %s/%s key %q holds no token", ref.Namespace, ref.Name, ref.Key)
}

// oneLine joins a multi-line (joined) error into one line for conditions.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}

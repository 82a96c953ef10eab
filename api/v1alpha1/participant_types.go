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

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// ParticipantSpec declares one HTTP service that sagas may call. Templates name
// participants; they never carry URLs, so a namespace's template cannot make the operator
// call anything the cluster admin did not declare.
type ParticipantSpec struct {
	// URL is the participant's base URL, e.g. http://carts.shop.svc:8080 or
	// https://rooms.example.com/api. A step's path is appended to it and can never change
	// its scheme, host or port, nor climb above its path.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHostname() != ''",message="url must be an absolute http or https URL such as http://carts:8080"
	// +kubebuilder:validation:XValidation:rule="!self.contains('?') && !self.contains('#')",message="url must not carry a query or a fragment"
	// +kubebuilder:validation:XValidation:rule="self.split('/').size() < 3 || !self.split('/')[2].contains('@')",message="url must not carry user information"
	// +required
	URL string `json:"url"`

	// TokenSecretRef names the Secret key holding the bearer token sent on every call
	// (the first non-blank line of the value; several lines allow a rotation). The
	// Secret is read on every call, so a rotated token applies at once. Without it, calls
	// carry no Authorization header.
	// +optional
	TokenSecretRef *SecretKeyRef `json:"tokenSecretRef,omitempty"`

	// Timeout bounds one call to the participant (default 5s); past it the call is a
	// transient fault and is retried.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s') && duration(self) <= duration('5m')",message="timeout must be a positive duration of at most 5m, such as 5s"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`
}

// SecretKeyRef names one key of one Secret.
type SecretKeyRef struct {
	// Namespace of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +required
	Namespace string `json:"namespace"`
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`
	// Key in the Secret's data.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Key string `json:"key"`
}

// Participant is an HTTP service that Sagas may call, declared by the cluster admin.
// Cluster-scoped: namespaces' SagaTemplates refer to it by name and cannot change it.
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=part,categories=kubesaga
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.url`
// +kubebuilder:printcolumn:name="Secret",type=string,JSONPath=`.spec.tokenSecretRef.name`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Participant struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec ParticipantSpec `json:"spec"`
}

// ParticipantList is a list of Participants.
// +kubebuilder:object:root=true
type ParticipantList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Participant `json:"items"`
}

func init() {
	SchemeBuilder.Register(func(s *runtime.Scheme) error {
		s.AddKnownTypes(GroupVersion, &Participant{}, &ParticipantList{})
		return nil
	})
}

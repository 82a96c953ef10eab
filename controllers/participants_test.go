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

package controllers_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kubesaga/kubesaga/internal/dev/inprocess"
)

// participant is one real participant service of the suite (internal/dev/inprocess: its
// real handler on a real SQLite file), whose Start and Stop fail the spec on error. Specs
// take it down and bring it back on the same address and database, as a crashed and
// restarted service, and inject error answers.
type participant struct{ *inprocess.Service }

func newParticipant(name, dir string) *participant {
	GinkgoHelper()
	s, err := inprocess.New(name, dir)
	Expect(err).NotTo(HaveOccurred())
	return &participant{s}
}

// Start serves again, on the same address and database after a Stop.
func (p *participant) Start() {
	GinkgoHelper()
	Expect(p.Service.Start()).To(Succeed(), "start %s", p.Name)
}

// Stop takes the service down: its port refuses connections and its database is closed.
func (p *participant) Stop() {
	GinkgoHelper()
	Expect(p.Service.Stop()).To(Succeed(), "stop %s", p.Name)
}

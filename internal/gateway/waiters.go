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

package gateway

import "sync"

// waiters lets requests wait for news of an Order by name. The informer's event
// handler calls notify for every add, update and delete it sees; each waiting
// request holds the channel of its Order's name, which notify closes. One watch
// (the informer's) thus wakes every waiting request, and a name nobody waits for
// costs nothing.
type waiters struct {
	mu    sync.Mutex
	names map[string]*waitSlot
}

type waitSlot struct {
	ch    chan struct{}
	users int
}

func newWaiters() *waiters { return &waiters{names: map[string]*waitSlot{}} }

// wait returns a channel closed at the next notify of name, and release, which the
// caller must call once it no longer waits. Register before reading the Order, so
// that a change between the read and the wait is not missed.
func (w *waiters) wait(name string) (<-chan struct{}, func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, ok := w.names[name]
	if !ok {
		s = &waitSlot{ch: make(chan struct{})}
		w.names[name] = s
	}
	s.users++
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			w.mu.Lock()
			defer w.mu.Unlock()
			s.users--
			if s.users == 0 && w.names[name] == s {
				delete(w.names, name)
			}
		})
	}
}

// notify wakes everyone waiting for name.
func (w *waiters) notify(name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if s, ok := w.names[name]; ok {
		close(s.ch)
		delete(w.names, name)
	}
}

// count is the number of names waited for (a metric, and tests).
func (w *waiters) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.names)
}

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

// Package sagalog decides which entries of an Order's saga log (status.history) are
// still to be published on the event bus, and under which absolute index, without any
// write to the Order: the position lives in a Cursor (in memory, rebuilt from the
// stream at start). It is pure; the order-events controller persists nothing else.
//
// The history is a window: entries are appended at its end and, past its bound, the
// oldest are dropped from its front. An entry's absolute index (its id on the bus) is
// therefore its position plus the number of entries dropped before it, which the
// Order does not record. The cursor remembers the last published entry; finding it
// again in the window tells how far the window has slid.
package sagalog

import "time"

// Entry is one history entry as the cursor compares it.
type Entry struct {
	Event   string
	Time    time.Time
	Message string
}

func (e Entry) same(o Entry) bool {
	return e.Event == o.Event && e.Time.Equal(o.Time) && e.Message == o.Message
}

// Cursor is what has been published of one Order's saga log.
type Cursor struct {
	Next   int   // absolute index of the next entry to publish; 0: nothing yet
	Last   Entry // the entry published as Next-1
	Offset int   // absolute index of the window's first entry when last seen
}

// Plan is what to publish now.
type Plan struct {
	// Offset is the absolute index of history[0]: history[i] publishes as Offset+i.
	Offset int
	// From is the first position in history to publish (len(history): nothing).
	From int
	// Lost counts entries that left the window before they could be published (a
	// long outage of the bus while an Order kept logging); at least one when a gap
	// is detected, since the exact number is unknown.
	Lost int
}

// Pending compares the cursor with the current window.
func Pending(c Cursor, history []Entry) Plan {
	if c.Next == 0 {
		return Plan{Offset: 0, From: 0}
	}
	// The last published entry sits at position Next-1-offset for the true offset,
	// which never decreases: try the smallest first.
	for off := max(c.Offset, 0); off <= c.Next-1; off++ {
		p := c.Next - 1 - off
		if p < len(history) && history[p].same(c.Last) {
			return Plan{Offset: off, From: p + 1}
		}
	}
	if len(history) == 0 {
		return Plan{Offset: c.Next, From: 0}
	}
	// The last published entry left the window: everything in it is new, numbered
	// after what was published, and what slid out in between is lost to the bus.
	return Plan{Offset: c.Next, From: 0, Lost: 1}
}

// Advance returns the cursor after history[pos] was published under plan.
func Advance(plan Plan, history []Entry, pos int) Cursor {
	return Cursor{Next: plan.Offset + pos + 1, Last: history[pos], Offset: plan.Offset}
}

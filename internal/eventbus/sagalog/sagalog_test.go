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

package sagalog

import (
	"fmt"
	"testing"
	"time"
)

func entries(names ...string) []Entry {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]Entry, len(names))
	for i, n := range names {
		out[i] = Entry{Event: n, Time: t0.Add(time.Duration(i) * time.Second)}
	}
	return out
}

// publishAll runs Pending/Advance as the controller does and returns the absolute
// indexes published, with the events.
func publishAll(c Cursor, h []Entry) (Cursor, []string, int) {
	plan := Pending(c, h)
	var out []string
	for p := plan.From; p < len(h); p++ {
		out = append(out, fmt.Sprintf("%d:%s", plan.Offset+p, h[p].Event))
		c = Advance(plan, h, p)
	}
	return c, out, plan.Lost
}

func TestPending(t *testing.T) {
	all := entries("A", "B", "C", "D", "E", "F", "G", "H")
	cases := []struct {
		name     string
		seen     []Entry // the window when published last (nil: never)
		now      []Entry
		want     []string
		wantLost int
	}{
		{"first sight", nil, all[:3], []string{"0:A", "1:B", "2:C"}, 0},
		{"nothing new", all[:3], all[:3], nil, 0},
		{"appended", all[:3], all[:5], []string{"3:D", "4:E"}, 0},
		{"window slid, some new", all[:4], all[2:7], []string{"4:E", "5:F", "6:G"}, 0},
		{"window slid, nothing new", all[:5], all[2:5], nil, 0},
		{"last published slid out", all[:2], all[4:8], []string{"2:E", "3:F", "4:G", "5:H"}, 1},
		{"empty now", all[:2], nil, nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c Cursor
			if tc.seen != nil {
				c, _, _ = publishAll(Cursor{}, tc.seen)
			}
			_, got, lost := publishAll(c, tc.now)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || lost != tc.wantLost {
				t.Fatalf("published %v lost %d, want %v lost %d", got, lost, tc.want, tc.wantLost)
			}
		})
	}
}

// A cursor rebuilt from the stream knows only the last entry and its index (Offset 0):
// it must find the slid window again.
func TestPendingFromRebuiltCursor(t *testing.T) {
	all := entries("A", "B", "C", "D", "E", "F")
	c := Cursor{Next: 4, Last: all[3]}
	_, got, lost := publishAll(c, all[2:6])
	if fmt.Sprint(got) != "[4:E 5:F]" || lost != 0 {
		t.Fatalf("published %v lost %d", got, lost)
	}
}

// Step by step through a window of 3 that slides: every entry gets its own absolute
// index, once.
func TestSlidingWindowPublishesEachEntryOnce(t *testing.T) {
	all := entries("A", "B", "C", "D", "E", "F", "G")
	var c Cursor
	var published []string
	for n := 1; n <= len(all); n++ {
		window := all[max(0, n-3):n]
		var got []string
		c, got, _ = publishAll(c, window)
		published = append(published, got...)
	}
	if want := "[0:A 1:B 2:C 3:D 4:E 5:F 6:G]"; fmt.Sprint(published) != want {
		t.Fatalf("published %v, want %s", published, want)
	}
}

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

package saga

import (
	"math"
	"testing"
	"time"
)

func TestBackoffBoundsAndCap(t *testing.T) {
	p := Policy{BackoffBase: 100 * time.Millisecond, BackoffMax: 10 * time.Second}
	tests := []struct {
		n    int
		full time.Duration // the un-jittered delay
	}{
		{1, 100 * time.Millisecond}, {2, 200 * time.Millisecond}, {3, 400 * time.Millisecond},
		{7, 6400 * time.Millisecond}, {8, 10 * time.Second}, {63, 10 * time.Second},
		{64, 10 * time.Second}, {1000, 10 * time.Second}, {math.MaxInt, 10 * time.Second},
		{0, 100 * time.Millisecond}, {-5, 100 * time.Millisecond},
	}
	for _, tc := range tests {
		lo, hi := time.Duration(math.MaxInt64), time.Duration(0)
		for seed := uint64(0); seed < 2000; seed++ {
			d := Backoff(p, seed, int(seed%7), tc.n)
			if d < tc.full/2 || d > tc.full {
				t.Fatalf("n=%d seed=%d: %v outside [%v, %v]", tc.n, seed, d, tc.full/2, tc.full)
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		// The jitter really spreads over the range.
		if lo > tc.full*55/100 || hi < tc.full*95/100 {
			t.Errorf("n=%d: jitter range [%v, %v] does not cover [%v, %v]", tc.n, lo, hi, tc.full/2, tc.full)
		}
	}
}

func TestBackoffDeterministic(t *testing.T) {
	p := orderDef().Policy
	if first, again := Backoff(p, 1, 2, 3), Backoff(p, 1, 2, 3); first != again {
		t.Fatal("same inputs, different delays")
	}
	differs := func(f func(i int) time.Duration) bool {
		for i := 1; i < 10; i++ {
			if f(i) != f(0) {
				return true
			}
		}
		return false
	}
	if !differs(func(i int) time.Duration { return Backoff(p, uint64(i), 0, 2) }) ||
		!differs(func(i int) time.Duration { return Backoff(p, 1, i, 2) }) {
		t.Fatal("jitter does not depend on seed and step")
	}
}

func TestBackoffEdges(t *testing.T) {
	huge := Policy{BackoffBase: time.Duration(math.MaxInt64 / 3), BackoffMax: time.Duration(math.MaxInt64)}
	for _, n := range []int{1, 2, 3, 64, math.MaxInt} {
		if d := Backoff(huge, 9, 1, n); d < huge.BackoffBase/2 || d < 0 {
			t.Errorf("huge base n=%d: %v", n, d)
		}
	}
	uncapped := Policy{BackoffBase: time.Second}
	for _, n := range []int{1, 40, 1 << 20, math.MaxInt} {
		if d := Backoff(uncapped, 9, 1, n); d < time.Second/2 {
			t.Errorf("no cap n=%d: %v (overflow?)", n, d)
		}
	}
	if d := Backoff(Policy{BackoffMax: time.Second}, 1, 1, 3); d != 0 {
		t.Errorf("zero base: %v", d)
	}
	// A cap below the base caps the first delay too.
	if d := Backoff(Policy{BackoffBase: time.Minute, BackoffMax: time.Second}, 1, 1, 1); d > time.Second || d < time.Second/2 {
		t.Errorf("max below base: %v", d)
	}
}

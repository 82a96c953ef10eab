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
	"time"
)

// Backoff returns the delay before attempt n+1 after n ≥ 1 failed attempts of step:
// min(BackoffMax, BackoffBase·2^(n-1)), then jittered to [50%, 100%] of that value so that
// sagas failing together do not retry together. The jitter is a hash of (seed, step, n),
// so the delay is the same after a restart. It never overflows: doubling stops at the cap
// (or at math.MaxInt64 when BackoffMax is not positive). n < 1 counts as 1; a non-positive
// BackoffBase means no delay.
func Backoff(p Policy, seed uint64, step, n int) time.Duration {
	d := p.BackoffBase
	if d <= 0 {
		return 0
	}
	limit := p.BackoffMax
	if limit <= 0 {
		limit = math.MaxInt64
	}
	for k := 1; k < n && d < limit; k++ {
		if d > limit/2 {
			d = limit
			break
		}
		d *= 2
	}
	d = min(d, limit)
	half := d / 2
	span := uint64(d - half) // jitter in [0, span]; d-half ≤ 2^62, so span+1 cannot overflow
	return half + time.Duration(mix(seed, uint64(step), uint64(n))%(span+1))
}

// mix hashes its inputs with splitmix64 finalizers: cheap, well spread, stable forever
// (recorded NextRetryAt values were computed with it).
func mix(seed, step, n uint64) uint64 {
	return splitmix(splitmix(splitmix(0x243f6a8885a308d3^seed)^step) ^ n)
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

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

// Package money converts prices between their wire form, a decimal string with
// exactly two places ("12.50"), and integer cents, so that no amount is ever a float.
package money

import (
	"errors"
	"fmt"
	"math"
)

// Cents is an amount in hundredths of the currency unit.
type Cents int64

// MaxPrice bounds a single unit price (1,000,000.00). The bound keeps every
// quantity × price × line-count product far inside int64.
const MaxPrice Cents = 100_000_000

// maxDigits bounds the integer part of a price string so parsing never overflows.
const maxDigits = 7

// ErrOverflow is returned by arithmetic that would leave the int64 range.
var ErrOverflow = errors.New("amount overflows")

// Parse reads a price in the form "123.45": ASCII digits, a dot, exactly two
// digits. Signs, exponents, spaces, leading zeros ("01.00") and values above
// MaxPrice are refused so that every amount has exactly one spelling.
func Parse(s string) (Cents, error) {
	const format = `must be a decimal string with two places, like "12.50"`
	n := len(s)
	if n < 4 || s[n-3] != '.' {
		return 0, errors.New(format)
	}
	intPart, frac := s[:n-3], s[n-2:]
	if len(intPart) > maxDigits {
		return 0, fmt.Errorf("must not exceed %s", MaxPrice)
	}
	if len(intPart) > 1 && intPart[0] == '0' {
		return 0, errors.New(format + " (no leading zeros)")
	}
	var v int64
	for _, part := range []string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			c := part[i]
			if c < '0' || c > '9' {
				return 0, errors.New(format)
			}
			v = v*10 + int64(c-'0')
		}
	}
	if Cents(v) > MaxPrice {
		return 0, fmt.Errorf("must not exceed %s", MaxPrice)
	}
	return Cents(v), nil
}

// String formats the amount with two decimal places, e.g. 3750 -> "37.50".
func (c Cents) String() string {
	v := int64(c)
	sign := ""
	if v < 0 {
		sign = "-"
		if v == math.MinInt64 {
			return "-92233720368547758.08"
		}
		v = -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// Mul returns c × n, or ErrOverflow.
func (c Cents) Mul(n int64) (Cents, error) {
	if n == 0 || c == 0 {
		return 0, nil
	}
	r := int64(c) * n
	if r/n != int64(c) || (int64(c) == -1 && n == math.MinInt64) || (n == -1 && int64(c) == math.MinInt64) {
		return 0, ErrOverflow
	}
	return Cents(r), nil
}

// Add returns c + d, or ErrOverflow.
func (c Cents) Add(d Cents) (Cents, error) {
	r := c + d
	if (d > 0 && r < c) || (d < 0 && r > c) {
		return 0, ErrOverflow
	}
	return r, nil
}

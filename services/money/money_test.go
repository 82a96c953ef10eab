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

package money

import (
	"errors"
	"math"
	"testing"
)

func TestParse(t *testing.T) {
	good := map[string]Cents{
		"0.00": 0, "0.01": 1, "12.50": 1250, "1000000.00": 100_000_000, "9.99": 999,
	}
	for in, want := range good {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
		if got.String() != in {
			t.Errorf("Parse(%q).String() = %q", in, got.String())
		}
	}
	bad := []string{
		"", "12", "12.5", "12.500", "-1.00", "+1.00", "1e2", "1.0e", "01.00", " 1.00",
		"1.00 ", "1,00", ".50", "1000000.01", "99999999.00", "１.00", "1.-1", "0x1.00",
		"NaN", "Inf", "12.5a", "9223372036854775807.00",
	}
	for _, in := range bad {
		if got, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %d, want error", in, got)
		}
	}
}

func TestString(t *testing.T) {
	cases := map[Cents]string{0: "0.00", 5: "0.05", 3750: "37.50", -5: "-0.05", -1250: "-12.50"}
	for in, want := range cases {
		if got := in.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int64(in), got, want)
		}
	}
	if got := Cents(math.MinInt64).String(); got != "-92233720368547758.08" {
		t.Errorf("MinInt64 = %q", got)
	}
}

func TestArithmetic(t *testing.T) {
	if got, err := Cents(1250).Mul(3); err != nil || got != 3750 {
		t.Fatalf("Mul = %d, %v", got, err)
	}
	if _, err := Cents(math.MaxInt64 / 2).Mul(3); !errors.Is(err, ErrOverflow) {
		t.Fatalf("Mul overflow not detected: %v", err)
	}
	if _, err := Cents(-1).Mul(math.MinInt64); !errors.Is(err, ErrOverflow) {
		t.Fatalf("Mul MinInt64 overflow not detected: %v", err)
	}
	if got, err := Cents(1).Add(2); err != nil || got != 3 {
		t.Fatalf("Add = %d, %v", got, err)
	}
	if _, err := Cents(math.MaxInt64).Add(1); !errors.Is(err, ErrOverflow) {
		t.Fatalf("Add overflow not detected: %v", err)
	}
	if _, err := Cents(math.MinInt64).Add(-1); !errors.Is(err, ErrOverflow) {
		t.Fatalf("Add underflow not detected: %v", err)
	}
}

// FuzzParse checks that every accepted string round-trips exactly and stays in bounds.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"12.50", "0.00", "1000000.00", "1000000.01", "-1.00", "1e3", "01.00", "", "1.5", "١.٠٠"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err != nil {
			return
		}
		if c < 0 || c > MaxPrice {
			t.Fatalf("Parse(%q) = %d out of bounds", s, c)
		}
		if c.String() != s {
			t.Fatalf("Parse(%q) round-trips to %q", s, c.String())
		}
	})
}

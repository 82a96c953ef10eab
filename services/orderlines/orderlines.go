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

// Package orderlines validates priced product lines (cart and sale lines) and
// computes their total exactly, in integer cents.
package orderlines

import (
	"fmt"

	"github.com/kubesaga/kubesaga/services/httpapi"
	"github.com/kubesaga/kubesaga/services/money"
)

// Request is a line as a client sends it. Pointers tell a missing field from a
// zero one; the price is a string so that it never passes through a float.
type Request struct {
	ProductID *int64  `json:"productId"`
	Quantity  *int64  `json:"quantity"`
	UnitPrice *string `json:"unitPrice"`
}

// Line is a validated line, as stored and shown. UnitPrice is the canonical
// string of Cents.
type Line struct {
	ProductID int64       `json:"productId"`
	Quantity  int64       `json:"quantity"`
	UnitPrice string      `json:"unitPrice"`
	Cents     money.Cents `json:"-"`
}

// Validate checks 1..MaxLines lines, one per product, each with a positive
// product id, a quantity in 1..MaxQuantity and a well-formed price. Problems
// name the field as "lines[i].field".
func Validate(reqs []Request) ([]Line, *httpapi.Problem) {
	if len(reqs) == 0 || len(reqs) > httpapi.MaxLines {
		return nil, httpapi.Invalid("lines", fmt.Sprintf("is required and must have between 1 and %d lines", httpapi.MaxLines))
	}
	out := make([]Line, len(reqs))
	seen := make(map[int64]bool, len(reqs))
	for i, r := range reqs {
		field := fmt.Sprintf("lines[%d]", i)
		var p *httpapi.Problem
		if out[i].ProductID, p = httpapi.RequireID(field+".productId", r.ProductID); p != nil {
			return nil, p
		}
		if seen[out[i].ProductID] {
			return nil, httpapi.Invalid(field+".productId", "duplicates an earlier line; use one line per product")
		}
		seen[out[i].ProductID] = true
		if out[i].Quantity, p = httpapi.RequireQuantity(field+".quantity", r.Quantity, 1); p != nil {
			return nil, p
		}
		if r.UnitPrice == nil {
			return nil, httpapi.Invalid(field+".unitPrice", `is required, as a decimal string like "12.50"`)
		}
		c, err := money.Parse(*r.UnitPrice)
		if err != nil {
			return nil, httpapi.Invalid(field+".unitPrice", err.Error())
		}
		out[i].Cents, out[i].UnitPrice = c, c.String()
	}
	return out, nil
}

// Total returns Σ quantity × unit price. With the bounds Validate enforces it
// cannot overflow; the checks guard against callers that skip Validate.
func Total(lines []Line) (money.Cents, error) {
	var total money.Cents
	for _, l := range lines {
		sub, err := l.Cents.Mul(l.Quantity)
		if err != nil {
			return 0, fmt.Errorf("line total of product %d: %w", l.ProductID, err)
		}
		if total, err = total.Add(sub); err != nil {
			return 0, fmt.Errorf("total: %w", err)
		}
	}
	return total, nil
}

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

package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// checkKeys enforces what encoding/json does not: every object key of body names a field
// of dst's type exactly (encoding/json would also accept "StoreID" or "storeid" for
// "storeId"), and no object repeats a key (encoding/json would keep the last one, so that
// {"quantity":1,"quantity":100} means 100 to one reader and 1 to another). It returns nil
// for malformed JSON: the decoder reports that with a better message.
func checkKeys(body []byte, dst any) *Problem {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	p, _ := walk(dec, reflect.TypeOf(dst))
	return p
}

// walk reads one value and checks its keys against t (nil: any keys, e.g. a map or any).
// The error is a syntax error, left to the decoder.
func walk(dec *json.Decoder, t reflect.Type) (*Problem, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	t = deref(t)
	switch tok {
	case json.Delim('{'):
		fields := fieldsOf(t)
		seen := map[string]bool{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, _ := k.(string)
			if seen[key] {
				return Invalid(key, "duplicated key: each field may appear once"), nil
			}
			seen[key] = true
			var ft reflect.Type
			if fields != nil {
				var ok bool
				if ft, ok = fields[key]; !ok {
					return unknownKey(key, fields), nil
				}
			} else if t != nil && t.Kind() == reflect.Map {
				ft = t.Elem()
			}
			if p, err := walk(dec, ft); p != nil || err != nil {
				return p, err
			}
		}
		_, err := dec.Token() // '}'
		return nil, err
	case json.Delim('['):
		var et reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			et = t.Elem()
		}
		for dec.More() {
			if p, err := walk(dec, et); p != nil || err != nil {
				return p, err
			}
		}
		_, err := dec.Token() // ']'
		return nil, err
	}
	return nil, nil
}

// unknownKey names the field by its key, as the decoder's own problems do.
func unknownKey(key string, fields map[string]reflect.Type) *Problem {
	for f := range fields {
		if strings.EqualFold(f, key) {
			return Invalid(key, fmt.Sprintf("unknown field (field names are case-sensitive: %q)", f))
		}
	}
	if key == "" { // {"":1}: a problem must still name where it is
		return Invalid("body", `has an unknown field ""`)
	}
	return Invalid(key, "unknown field")
}

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

var unmarshaler = reflect.TypeFor[json.Unmarshaler]()

// fieldsOf maps the exact JSON names of a struct's fields (embedded structs flattened) to
// their types; nil when t is not a struct (a map or an interface takes any key) or
// decodes itself.
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	if t == nil || t.Kind() != reflect.Struct || reflect.PointerTo(t).Implements(unmarshaler) {
		return nil
	}
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && deref(f.Type).Kind() == reflect.Struct {
			for k, v := range fieldsOf(deref(f.Type)) {
				out[k] = v
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

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

package monitoring

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// lowerCamel is controller-runtime's key style, which the access log follows too
// (correlationId, durationSeconds).
var lowerCamel = regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)

// keysFrom is where the key/value pairs start in a logger call, by method name: slog's
// Info(msg, kv...), InfoContext(ctx, msg, kv...), LogAttrs(ctx, level, msg, attrs...),
// With(kv...); logr's Info(msg, kv...), Error(err, msg, kv...), WithValues(kv...).
var keysFrom = map[string]int{
	"Info": 1, "Warn": 1, "Debug": 1, "Error": 1, // Error: 2 for logr, see below
	"InfoContext": 2, "WarnContext": 2, "ErrorContext": 2, "DebugContext": 2,
	"LogAttrs": 3, "With": 0, "WithValues": 0,
}

// TestLogKeysAreLowerCamelCase reads every log call of the programs (controllers,
// internal, services, cmd) and checks the keys written as literals, as key/value pairs
// or as slog attributes: one casing for every log line, whichever program wrote it.
// Keys built at run time are not seen; TestManagerLogsAreAllJSON checks real output.
func TestLogKeysAreLowerCamelCase(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	for _, dir := range []string{"controllers", "internal", "services", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				for _, key := range logKeys(call) {
					checked++
					if name, _ := strconv.Unquote(key.Value); !lowerCamel.MatchString(name) {
						rel, _ := filepath.Rel(root, fset.Position(key.Pos()).Filename)
						t.Errorf("%s:%d: log key %s is not lowerCamelCase", rel, fset.Position(key.Pos()).Line, key.Value)
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if checked < 50 {
		t.Fatalf("only %d log keys found: the scan no longer recognises the log calls", checked)
	}
}

// logKeys returns the string literals a logger call uses as keys.
func logKeys(call *ast.CallExpr) []*ast.BasicLit {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return nil
	}
	if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "slog" {
		return attrKey(call) // slog.String("key", v) and the like, wherever they are
	}
	i, ok := keysFrom[sel.Sel.Name]
	if !ok {
		return nil
	}
	if sel.Sel.Name == "Error" && len(call.Args) > 1 && !isString(call.Args[0]) {
		i = 2 // logr: Error(err, msg, kv...)
	}
	var keys []*ast.BasicLit
	for i < len(call.Args) {
		switch a := call.Args[i].(type) {
		case *ast.BasicLit:
			if a.Kind == token.STRING {
				keys = append(keys, a)
			}
			i += 2
		case *ast.Ident:
			if lit := constString(a); lit != nil {
				keys = append(keys, lit)
			}
			i += 2 // a named key (or an attribute in a variable, whose value is then skipped)
		case *ast.CallExpr:
			// An slog attribute stands alone (its key is checked when the walk reaches it);
			// anything else is a computed key.
			if s, ok := a.Fun.(*ast.SelectorExpr); ok {
				if pkg, ok := s.X.(*ast.Ident); ok && pkg.Name == "slog" {
					i++
					continue
				}
			}
			i += 2
		default:
			i += 2 // a computed key: not a literal to check
		}
	}
	return keys
}

// attrKey is the key of slog.String("key", v), slog.Group("key", ...) and the like.
func attrKey(call *ast.CallExpr) []*ast.BasicLit {
	if len(call.Args) == 0 {
		return nil
	}
	if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
		return []*ast.BasicLit{lit}
	}
	if id, ok := call.Args[0].(*ast.Ident); ok {
		if lit := constString(id); lit != nil {
			return []*ast.BasicLit{lit}
		}
	}
	return nil
}

// constString is the literal value of a string constant declared in the same file (such
// as the access log's key names), or nil.
func constString(id *ast.Ident) *ast.BasicLit {
	if id.Obj == nil || id.Obj.Kind != ast.Con {
		return nil
	}
	spec, ok := id.Obj.Decl.(*ast.ValueSpec)
	if !ok {
		return nil
	}
	for k, name := range spec.Names {
		if name.Name == id.Name && k < len(spec.Values) {
			if lit, ok := spec.Values[k].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				return lit
			}
		}
	}
	return nil
}

func isString(e ast.Expr) bool {
	lit, ok := e.(*ast.BasicLit)
	return ok && lit.Kind == token.STRING
}

// Command codestats prints the longest and most complex functions of yoroi's packages,
// for the design reviews of issue 19 (`make stats`). Complexity is counted as gocyclo
// counts it: one plus each if, for, case, && and ||.
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type funcStat struct {
	name       string
	pos        string
	lines      int
	complexity int
}

func complexity(fn ast.Node) int {
	n := 1
	ast.Inspect(fn, func(x ast.Node) bool {
		switch x := x.(type) {
		case *ast.IfStmt, *ast.ForStmt, *ast.RangeStmt:
			n++
		case *ast.CaseClause:
			if x.List != nil {
				n++
			}
		case *ast.CommClause:
			if x.Comm != nil {
				n++
			}
		case *ast.BinaryExpr:
			if x.Op == token.LAND || x.Op == token.LOR {
				n++
			}
		}
		return true
	})
	return n
}

func main() {
	top := flag.Int("top", 10, "how many functions to list")
	flag.Parse()
	roots := flag.Args()
	if len(roots) == 0 {
		roots = []string{"cmd", "runtime", "hardening", "shim"}
	}
	fset := token.NewFileSet()
	var stats []funcStat
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			for _, decl := range f.Decls {
				fn, ok := decl.(*ast.FuncDecl)
				if !ok || fn.Body == nil {
					continue
				}
				name := fn.Name.Name
				if fn.Recv != nil && len(fn.Recv.List) == 1 {
					t := fn.Recv.List[0].Type
					if s, ok := t.(*ast.StarExpr); ok {
						t = s.X
					}
					if id, ok := t.(*ast.Ident); ok {
						name = id.Name + "." + name
					}
				}
				start, end := fset.Position(fn.Pos()), fset.Position(fn.End())
				stats = append(stats, funcStat{name: name, pos: fmt.Sprintf("%s:%d", path, start.Line), lines: end.Line - start.Line + 1, complexity: complexity(fn)})
			}
			return nil
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	show := func(title string, less func(a, b funcStat) bool) {
		sort.Slice(stats, func(i, j int) bool { return less(stats[i], stats[j]) })
		fmt.Println(title)
		for _, s := range stats[:min(*top, len(stats))] {
			fmt.Printf("  %4d lines  complexity %3d  %s (%s)\n", s.lines, s.complexity, s.name, s.pos)
		}
	}
	show("longest functions:", func(a, b funcStat) bool { return a.lines > b.lines })
	show("most complex functions:", func(a, b funcStat) bool { return a.complexity > b.complexity })
	over := 0
	for _, s := range stats {
		if s.lines > 60 {
			over++
		}
	}
	fmt.Printf("functions: %d, longer than 60 lines: %d\n", len(stats), over)
}

package scenarios

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// ErrInvalid matches every problem found in a catalog file, so that callers
// can tell bad input (exit code 2) from other failures with errors.Is.
var ErrInvalid = errors.New("invalid scenario catalog")

// Problem is one thing wrong with a catalog file, located by file, line and
// column (both 1-based; 0 when unknown) and by the YAML path of the offending
// value, such as "steps[2].run".
type Problem struct {
	File string
	Line int
	Col  int
	Path string
	Msg  string
}

// Error formats the problem the way compilers do: "file:line:col: path: msg".
func (p *Problem) Error() string {
	loc := p.File
	if p.Line > 0 {
		loc = fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
	}
	if p.Path == "" {
		return loc + ": " + p.Msg
	}
	return fmt.Sprintf("%s: %s: %s", loc, p.Path, p.Msg)
}

// Is reports whether target is ErrInvalid.
func (p *Problem) Is(target error) bool { return target == ErrInvalid }

// Problems returns every *Problem in err, which may be a single problem or
// a tree joined with errors.Join.
func Problems(err error) []*Problem {
	var out []*Problem
	var walk func(error)
	walk = func(e error) {
		if p, ok := e.(*Problem); ok {
			out = append(out, p)
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, c := range u.Unwrap() {
				walk(c)
			}
		case interface{ Unwrap() error }:
			if c := u.Unwrap(); c != nil {
				walk(c)
			}
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

// joinProblems sorts problems by file and position and joins them into one
// error, or returns nil when there are none (never a typed nil).
func joinProblems(ps []*Problem) error {
	if len(ps) == 0 {
		return nil
	}
	slices.SortStableFunc(ps, func(a, b *Problem) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Col, b.Col))
	})
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errors.Join(errs...)
}

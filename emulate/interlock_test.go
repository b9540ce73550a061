package emulate

import (
	"context"
	"errors"
	"testing"
)

func TestCheckLabHost(t *testing.T) {
	present := &scripted{rules: []rule{{contains: "lab.marker", res: Result{Stdout: "True\r\n"}}}}
	absent := &scripted{rules: []rule{{contains: "Test-Path", res: Result{Stdout: "False\r\n"}}}}
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		r        Runner
		declared bool
		want     error
	}{
		{"declared with marker", present, true, nil},
		{"declared without marker", absent, true, ErrNotLab},
		{"not declared", present, false, ErrNotLab},
		{"dry run", &DryRun{}, true, nil},
	} {
		err := CheckLabHost(ctx, tc.r, "WS01", tc.declared, "")
		if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
			t.Errorf("%s: got %v; want %v", tc.name, err, tc.want)
		}
		if tc.want != nil && !errors.Is(err, ErrEmulation) {
			t.Errorf("%s: refusal does not match ErrEmulation", tc.name)
		}
	}
	if present.ran(DefaultLabMarker) == 0 {
		t.Error("the default marker path was not checked")
	}
}

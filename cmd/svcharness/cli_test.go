package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestRunWithoutArgsPrintsUsage(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), nil, &out, &errb)
	if code != exitUsage {
		t.Errorf("got exit %d; want %d", code, exitUsage)
	}
	if !strings.Contains(out.String(), "Commands:") {
		t.Errorf("got usage %q; want a command list", out.String())
	}
}

func TestRunUnknownCommand(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"frobnicate"}, &out, &errb)
	if code != exitUsage {
		t.Errorf("got exit %d; want %d", code, exitUsage)
	}
	if !strings.Contains(errb.String(), `unknown command "frobnicate"`) {
		t.Errorf("got stderr %q; want the unknown command named", errb.String())
	}
}

func TestEveryCommandHasHelp(t *testing.T) {
	for name := range commands {
		var out, errb bytes.Buffer
		code := run(context.Background(), []string{name, "--help"}, &out, &errb)
		if code != exitOK {
			t.Errorf("%s --help: got exit %d; want 0 (stderr %q)", name, code, errb.String())
		}
		if out.Len()+errb.Len() == 0 {
			t.Errorf("%s --help printed nothing", name)
		}
	}
}

package main

import (
	"context"
	"errors"

	"github.com/arazzo-go/arazzo/engine/diag"
	"github.com/arazzo-go/arazzo/engine/source"
)

// interrupted says whether loading stopped because the command was
// interrupted (a remote source cut off by Ctrl-C): that is exit 130, not
// an invalid document.
func interrupted(diags diag.List) bool {
	for _, d := range diags {
		if errors.Is(d.Cause, context.Canceled) {
			return true
		}
	}
	return false
}

// withFlagHints adds to diagnostics the flag that lifts their cause: the
// library names no flags, the command line does.
func withFlagHints(diags diag.List) diag.List {
	for i, d := range diags {
		switch {
		case errors.Is(d.Cause, source.ErrRemoteOff):
			diags[i].Message += " (allow them with --allow-remote)"
		case errors.Is(d.Cause, source.ErrPrivateAddress):
			diags[i].Message += " (allow them with --allow-private)"
		}
	}
	return diags
}

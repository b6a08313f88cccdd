package main

import (
	"errors"

	"github.com/arazzo-go/arazzo/engine/diag"
	"github.com/arazzo-go/arazzo/engine/source"
)

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

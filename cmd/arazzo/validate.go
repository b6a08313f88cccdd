package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/diag"
	"github.com/arazzo-go/arazzo/engine/source"
)

func newValidateCmd(h host) *cobra.Command {
	var format string
	var allowRemote, allowPrivate, lenient bool
	var sourceRoot string
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check Arazzo documents against the schema and the specification's rules",
		Long: `validate checks each document against the official Arazzo JSON Schema of the
version it declares (1.0.x or 1.1.x) and
the rules the schema cannot express (references, operations, expressions), and
prints one line per finding: file:line:col: severity: message [rule].

Exit status: 0 when there are no errors (warnings allowed), 1 when any file has
errors, 2 for a usage error or an unreadable file.`,
		Example: `  arazzo validate workflows/amazon-healthlake-export.arazzo.yaml
  arazzo validate --format json workflows/*.yaml
  arazzo validate --format github workflows/*.yaml      # annotations in GitHub Actions
  arazzo validate --format sarif workflows/*.yaml > arazzo.sarif`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			switch format {
			case "text", "json", "github", "sarif":
			default:
				return withCode(exitUsage, fmt.Errorf("unknown --format %q (text, json, github or sarif)", format))
			}
			loader := &source.Loader{AllowRemote: allowRemote, AllowPrivate: allowPrivate, Root: h.path(sourceRoot)}
			return checkFiles(cmd.OutOrStdout(), h, format, files, nil, func(path string) diag.List {
				opts := h.compileOptions()
				if !lenient {
					opts = append(opts, engine.StrictDialects())
				}
				_, diags := engine.LoadFile(cmd.Context(), path, loader, opts...)
				return diags
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json, github (Actions annotations) or sarif (SARIF 2.1.0)")
	cmd.Flags().BoolVar(&allowRemote, "allow-remote", false, "load http(s) source descriptions")
	cmd.Flags().BoolVar(&allowPrivate, "allow-private", false, "with --allow-remote, allow sources on loopback, private and link-local addresses")
	cmd.Flags().BoolVar(&lenient, "lenient", false, "report dialects that run would accept (see arazzo fix) as warnings, not errors")
	cmd.Flags().StringVar(&sourceRoot, "source-root", "", "only load local sources inside this directory (for documents you do not trust)")
	return cmd
}

// checkFiles is validate and lint: check each file, print the findings
// (after first, the config's own) in format, and exit 1 on errors, 2 when a
// file cannot be read.
func checkFiles(out io.Writer, h host, format string, files []string, first diag.List, check func(path string) diag.List) error {
	all := first
	unreadable := false
	for _, f := range files {
		diags := check(h.path(f))
		if interrupted(diags) {
			return withCode(exitInterrupted, nil)
		}
		for i, d := range diags {
			if d.Rule == "read" {
				// Not a document at all (missing, a directory, a device): a
				// usage error, named as it was given.
				unreadable, diags[i].File, diags[i].Message = true, f, strings.ReplaceAll(d.Message, h.path(f), f)
			}
		}
		all = append(all, withFlagHints(diags)...)
	}
	if err := writeDiagnostics(out, format, all); err != nil {
		return err
	}
	switch {
	case unreadable:
		return withCode(exitUsage, nil)
	case all.HasErrors():
		return withCode(exitFailed, nil)
	}
	return nil
}

package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/diag"
	"github.com/arazzo-go/arazzo/engine/report"
	"github.com/arazzo-go/arazzo/engine/source"
)

func newValidateCmd(h host) *cobra.Command {
	var format string
	var allowRemote, allowPrivate, lenient bool
	var sourceRoot string
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check Arazzo documents against the schema and the specification's rules",
		Long: `validate checks each document against the official Arazzo 1.0 JSON Schema and
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
			var all diag.List
			unreadable := false
			for _, f := range files {
				if _, err := os.Stat(h.path(f)); err != nil {
					unreadable = true
					all = append(all, diag.Diagnostic{File: f, Severity: diag.Error, Rule: "read", Message: err.Error()})
					continue
				}
				opts := compileOptions()
				if !lenient {
					opts = append(opts, engine.StrictDialects())
				}
				_, diags := engine.LoadFile(cmd.Context(), h.path(f), loader, opts...)
				diags = withFlagHints(diags)
				all = append(all, diags...)
			}
			out := cmd.OutOrStdout()
			switch format {
			case "json":
				if all == nil {
					all = diag.List{}
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(all); err != nil {
					return err
				}
			case "github":
				if err := report.WriteGitHubAnnotations(out, all); err != nil {
					return err
				}
			case "sarif":
				if err := report.WriteSARIF(out, all, tool()); err != nil {
					return err
				}
			default:
				for _, d := range all {
					fmt.Fprintln(out, d.String())
				}
			}
			switch {
			case unreadable:
				return withCode(exitUsage, nil)
			case all.HasErrors():
				return withCode(exitFailed, nil)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json, github (Actions annotations) or sarif (SARIF 2.1.0)")
	cmd.Flags().BoolVar(&allowRemote, "allow-remote", false, "load http(s) source descriptions")
	cmd.Flags().BoolVar(&allowPrivate, "allow-private", false, "with --allow-remote, allow sources on loopback, private and link-local addresses")
	cmd.Flags().BoolVar(&lenient, "lenient", false, "report dialects that run would accept (see arazzo fix) as warnings, not errors")
	cmd.Flags().StringVar(&sourceRoot, "source-root", "", "only load local sources inside this directory (for documents you do not trust)")
	return cmd
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/diag"
	"github.com/arazzo-go/arazzo/engine/lint"
	"github.com/arazzo-go/arazzo/engine/report"
	"github.com/arazzo-go/arazzo/engine/source"
)

func newLintCmd(h host) *cobra.Command {
	var format, config, explain string
	var listRules, allowRemote, allowPrivate bool
	var sourceRoot string
	cmd := &cobra.Command{
		Use:   "lint FILE...",
		Short: "Check workflows against the APIs they call, before sending anything",
		Long: `lint reports everything validate does, plus what needs the OpenAPI
descriptions and the workflow's flow: parameters an operation does not declare,
misplaced or missing, values whose type cannot satisfy a schema, payloads that
break the request body schema, response fields no response has, polling loops
with no exit or with enum values that fall through, unreachable steps, unused
inputs and outputs, constant criteria. Each finding ends with its rule id;
arazzo lint --explain RULE says what the rule finds and what to do.

Configuration: .arazzo-lint.yaml in the working directory (or --config FILE)
sets a severity per rule (error, warn or off) and ignores files by path:

  rules:
    unused-output: off
    response-field-unknown: error
  ignore:
    - vendor/**
    - path: legacy/*.arazzo.yaml
      rules: [unreachable-step]

An object in the document silences rules for itself and everything inside it:
  x-arazzo-lint-ignore: [unused-input]     (or: all)

Exit status: 0 when there are no errors (warnings allowed), 1 when any file has
errors, 2 for a usage error, an unreadable file or a bad config.`,
		Example: `  arazzo lint workflows/*.arazzo.yaml
  arazzo lint --format sarif workflows/*.yaml > lint.sarif
  arazzo lint --explain loop-enum-fallthrough
  arazzo lint --list-rules`,
		RunE: func(cmd *cobra.Command, files []string) error {
			out := cmd.OutOrStdout()
			switch {
			case explain != "":
				r, ok := lint.Lookup(explain)
				if !ok {
					return withCode(exitUsage, fmt.Errorf("no lint rule %q (arazzo lint --list-rules lists them)", explain))
				}
				fmt.Fprintf(out, "%s (default: %s)\n  %s\n\n%s\n", r.ID, r.Severity, r.Summary, wrap(r.Explain, 78))
				return nil
			case listRules:
				tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
				for _, r := range lint.Rules() {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Severity, r.Summary)
				}
				return tw.Flush()
			case len(files) == 0:
				return withCode(exitUsage, fmt.Errorf("lint needs at least one FILE (or --explain RULE, --list-rules)"))
			}
			switch format {
			case "text", "json", "github", "sarif":
			default:
				return withCode(exitUsage, fmt.Errorf("unknown --format %q (text, json, github or sarif)", format))
			}
			cfg, cfgDiags, err := loadLintConfig(h, config)
			if err != nil {
				return withCode(exitUsage, err)
			}
			loader := &source.Loader{AllowRemote: allowRemote, AllowPrivate: allowPrivate, Root: h.path(sourceRoot)}
			return checkFiles(out, h, format, files, cfgDiags, func(path string) diag.List {
				return lint.File(cmd.Context(), path, loader, cfg, append(h.compileOptions(), engine.StrictDialects())...)
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json, github (Actions annotations) or sarif (SARIF 2.1.0)")
	cmd.Flags().StringVar(&config, "config", "", "lint config file (default: "+lint.ConfigFile+" in the working directory, if there is one)")
	cmd.Flags().StringVar(&explain, "explain", "", "explain a rule and exit")
	cmd.Flags().BoolVar(&listRules, "list-rules", false, "list the rules with their default severity and exit")
	cmd.Flags().BoolVar(&allowRemote, "allow-remote", false, "load http(s) source descriptions")
	cmd.Flags().BoolVar(&allowPrivate, "allow-private", false, "with --allow-remote, allow sources on loopback, private and link-local addresses")
	cmd.Flags().StringVar(&sourceRoot, "source-root", "", "only load local sources inside this directory (for documents you do not trust)")
	return cmd
}

// loadLintConfig reads --config, else the working directory's
// .arazzo-lint.yaml when there is one.
func loadLintConfig(h host, name string) (*lint.Config, diag.List, error) {
	path := h.path(name)
	if name == "" {
		path = h.path(lint.ConfigFile)
		if _, err := os.Stat(path); err != nil {
			return nil, nil, nil
		}
	}
	cfg, warnings, err := lint.LoadConfig(path)
	if err != nil {
		return nil, nil, fmt.Errorf("lint config: %v", err)
	}
	return cfg, warnings, nil
}

// writeDiagnostics prints findings in one of validate's formats.
func writeDiagnostics(out io.Writer, format string, all diag.List) error {
	switch format {
	case "json":
		if all == nil {
			all = diag.List{}
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(all)
	case "github":
		return report.WriteGitHubAnnotations(out, all)
	case "sarif":
		return report.WriteSARIF(out, all, tool())
	}
	for _, d := range all {
		if _, err := fmt.Fprintln(out, d.String()); err != nil {
			return err
		}
	}
	return nil
}

// wrap breaks text into lines of at most width columns.
func wrap(text string, width int) string {
	var b strings.Builder
	n := 0
	for _, w := range strings.Fields(text) {
		if n > 0 && n+1+len(w) > width {
			b.WriteByte('\n')
			n = 0
		} else if n > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}

package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/arazzo-go/arazzo/engine/dialect"
)

func newFixCmd(h host) *cobra.Command {
	var diff bool
	cmd := &cobra.Command{
		Use:   "fix FILE...",
		Short: "Rewrite dialects whose intent is certain into canonical Arazzo, in place",
		Long: `fix rewrites, in place, what run accepts with a warning and validate reports
as an error because its intent is certain: a bare source name in operationPath,
$response.headers for $response.header, $steps.X.name for $steps.X.outputs.name.
Only those spans change: comments, key order, quoting and layout stay as they
are. Literal outputs are listed but kept (Arazzo 1.0 has no other spelling).

With --diff, fix prints a unified diff and writes nothing.

Exit status: 0 done (or nothing to do); 1 with --diff when a file would change;
2 for a usage error or an unreadable or unwritable file.`,
		Example: `  arazzo fix --diff workflows/*.arazzo.yaml
  arazzo fix flow.arazzo.yaml && arazzo validate flow.arazzo.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
			changed := false
			for _, f := range files {
				data, err := os.ReadFile(h.path(f))
				if err != nil {
					return withCode(exitUsage, err)
				}
				found := dialect.Find(data)
				fixed := dialect.Apply(data, found)
				n := 0
				for _, d := range found {
					if !d.Rewrites() {
						fmt.Fprintf(errOut, "%s:%d:%d: kept: %s [%s]\n", f, d.Line, d.Col, d.Message, d.Rule)
						continue
					}
					n++
				}
				if n == 0 {
					continue
				}
				changed = true
				if diff {
					n := strings.TrimPrefix(f, "/")
					fmt.Fprint(out, unifiedDiff("a/"+n, "b/"+n, string(data), string(fixed)))
					continue
				}
				st, err := os.Stat(h.path(f))
				if err != nil {
					return withCode(exitUsage, err)
				}
				if err := os.WriteFile(h.path(f), fixed, st.Mode().Perm()); err != nil {
					return withCode(exitUsage, err)
				}
				fmt.Fprintf(errOut, "%s: %d rewrite(s)\n", f, n)
			}
			if diff && changed {
				return withCode(exitFailed, nil)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&diff, "diff", false, "print the changes as a unified diff instead of writing them")
	return cmd
}

package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/arazzo-go/arazzo/engine/document"
	"github.com/arazzo-go/arazzo/engine/schema"
	"github.com/arazzo-go/arazzo/engine/upgrade"
)

func newUpgradeCmd(h host) *cobra.Command {
	var diff bool
	cmd := &cobra.Command{
		Use:   "upgrade FILE...",
		Short: "Rewrite Arazzo 1.0.x documents as 1.1.0, in place",
		Long: `upgrade rewrites each Arazzo 1.0.x document as an Arazzo 1.1.0 document that
means the same thing. It edits the file's text in place: comments, key order,
quoting, indentation and layout stay as they were, and only what 1.1 reads
differently changes:

  - arazzo: 1.0.x becomes 1.1.0;
  - a jsonpath criterion that is not an RFC 9535 query (a comparison such as
    $.status == 'done') is pinned to draft-goessner-dispatch-jsonpath-00, and
    an xpath criterion without a version to xpath-10 (1.1's defaults are RFC
    9535 and XPath 3.1);
  - a criterion's flat version field moves into its type object, and
    type: simple without a context is dropped (simple is the default);
  - an XPath payload replacement target that is more than a plain path is
    pinned to xpath-10.

What it cannot convert is listed as file:line:col lines for a person to do.
With --diff nothing is written: a unified diff of each change is printed.

Exit status: 0 when every file was upgraded completely, 1 when something was
left to convert by hand (the rest is still written), 2 for a file that is not
an Arazzo 1.0.x document or cannot be read or written.`,
		Example: `  arazzo upgrade workflows/*.arazzo.yaml
  arazzo upgrade --diff flow.arazzo.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
			code := exitOK
			for _, f := range files {
				src, err := os.ReadFile(h.path(f))
				if err != nil {
					fmt.Fprintf(errOut, "%s: %v\n", f, unwrapPath(err))
					code = exitUsage
					continue
				}
				res, err := upgrade.Document(src)
				if err != nil {
					fmt.Fprintf(errOut, "%s: %v\n", f, err)
					code = exitUsage
					continue
				}
				if diff {
					fmt.Fprint(out, unifiedDiff(f, f+" (Arazzo 1.1)", string(src), string(res.Text)))
				} else {
					info, _ := os.Stat(h.path(f))
					if err := os.WriteFile(h.path(f), res.Text, info.Mode().Perm()); err != nil {
						fmt.Fprintf(errOut, "%s: %v\n", f, unwrapPath(err))
						code = exitUsage
						continue
					}
					fmt.Fprintf(out, "%s: upgraded to Arazzo %s (%d change(s))\n", f, upgrade.Target, len(res.Changes))
				}
				for _, m := range res.Manual {
					fmt.Fprintf(errOut, "%s:%s (convert by hand)\n", f, m)
					code = max(code, exitFailed)
				}
				// The result must be a valid 1.1 document as far as the
				// schema can tell; say so if it is not.
				if doc, diags := document.Parse(f, res.Text); doc != nil {
					for _, d := range append(diags, schema.ValidateDocument(doc)...).Errors() {
						fmt.Fprintf(errOut, "%s (after the upgrade)\n", d)
						code = max(code, exitFailed)
					}
				}
			}
			if code != exitOK {
				return withCode(code, nil)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&diff, "diff", false, "print what would change as a unified diff, and write nothing")
	return cmd
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

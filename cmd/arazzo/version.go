package main

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/arazzo-go/arazzo/engine/report"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version from the build info is used.
var version = ""

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version of arazzo",
		Example: "  arazzo version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "arazzo %s\n", versionString())
			return nil
		},
	}
}

func versionString() string {
	if version != "" {
		return version
	}
	bi, _ := debug.ReadBuildInfo()
	return describeBuild(bi)
}

// describeBuild says which code a binary was built from: the module
// version ("(devel)" for a build from a clone), then the commit, its time
// and "modified" when the tree had uncommitted changes, as the go command
// stamps them into binaries built inside a git checkout.
func describeBuild(bi *debug.BuildInfo) string {
	if bi == nil {
		return "(devel)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, at string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return v
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if strings.Contains(v, rev) {
		return v // a pseudo-version already names the commit, its time and +dirty
	}
	v += " (commit " + rev
	if at != "" {
		v += ", " + at
	}
	if modified {
		v += ", modified"
	}
	return v + ")"
}

// tool is how reports name this program.
func tool() report.Tool {
	return report.Tool{Name: "arazzo", Version: versionString(), InformationURI: "https://github.com/arazzo-go/arazzo"}
}

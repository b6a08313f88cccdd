//go:build !temporal

package main

import (
	"context"
	"errors"
	"io"

	"github.com/spf13/cobra"

	"github.com/arazzo-go/arazzo/engine"
)

// errNoTemporal is what a build without Temporal says to its flags.
var errNoTemporal = errors.New("this arazzo was built without Temporal: build it with -tags temporal " +
	"(go install -tags temporal github.com/arazzo-go/arazzo/cmd/arazzo@latest, or go build -tags temporal ./cmd/arazzo in a clone)")

func temporalBuilt() error { return errNoTemporal }

// newWorkerCmd is worker as a build without Temporal has it: it takes any
// flags and says how to get a build that serves runs.
func newWorkerCmd(host) *cobra.Command {
	return &cobra.Command{
		Use:                "worker",
		Short:              "Serve runs submitted with run --temporal-address, as a Temporal worker (a build with -tags temporal)",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
				return cmd.Help()
			}
			return withCode(exitUsage, errNoTemporal)
		},
	}
}

// checkTemporalRun has refused --temporal-address before these are
// reached.
func runOnTemporal(context.Context, host, *runFlags, job, *engine.Options, io.Writer) (*engine.Result, error) {
	return nil, withCode(exitUsage, errNoTemporal)
}

func detachRuns(*cobra.Command, host, *runFlags, []job, map[*engine.Plan]*engine.Options) error {
	return withCode(exitUsage, errNoTemporal)
}

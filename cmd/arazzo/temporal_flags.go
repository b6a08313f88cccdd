package main

// The flags of runs on Temporal, in every build. The Temporal SDK (with
// gRPC and protobuf: 19 MB of binary and about 3 ms of package
// initialisers, paid by every command, a seventh of a cold start) is
// linked only into a build with -tags temporal (temporal.go); other builds
// accept the flags and say how to get a build that has it
// (temporal_off.go).

import (
	"errors"

	"github.com/spf13/pflag"
)

// temporalFlags are run's flags for submitting to Temporal.
type temporalFlags struct {
	address    string
	namespace  string
	taskQueue  string
	workflowID string
	detach     bool
	submitter  bool // run's flags, not worker's
}

// submitting reports whether this command submits a run to Temporal.
func (t *temporalFlags) submitting() bool { return t.submitter && t.address != "" }

func (t *temporalFlags) register(f *pflag.FlagSet, submit bool) {
	f.StringVar(&t.address, "temporal-address", "", "the Temporal frontend as HOST:PORT")
	f.StringVar(&t.namespace, "namespace", "default", "the Temporal namespace")
	f.StringVar(&t.taskQueue, "task-queue", "arazzo", "the Temporal task queue the workers poll")
	t.submitter = submit
	if submit {
		f.StringVar(&t.workflowID, "workflow-id", "", "the Temporal workflow id of the run (default arazzo-WORKFLOW-RANDOM); Temporal refuses a second running one")
		f.BoolVar(&t.detach, "detach", false, "with --temporal-address, submit the run, print its Temporal workflow id and exit without following it")
	}
}

// checkTemporalRun refuses what does not go with --temporal-address.
func checkTemporalRun(fl *runFlags) error {
	switch {
	case fl.temporal.address != "" && temporalBuilt() != nil:
		return temporalBuilt()
	case fl.temporal.address == "":
		if fl.temporal.detach || fl.temporal.workflowID != "" {
			return errors.New("--detach and --workflow-id submit to Temporal: give --temporal-address")
		}
		return nil
	case fl.all:
		return errors.New("--temporal-address submits one run: it does not go with --all")
	case fl.state != "":
		return errors.New("--temporal-address and --state are two ways to make a run durable: give one (Temporal records the run itself)")
	case fl.dryRun:
		return errors.New("--dry-run sends nothing: it does not go with --temporal-address")
	case len(fl.auth.values) > 0 || fl.auth.file != "":
		return errors.New("credentials stay on the workers: give --auth and --auth-file to arazzo worker, not to run --temporal-address")
	case fl.aws.emulate != "":
		return errors.New("--emulate starts an emulator in this process, which the workers cannot reach: give --emulate to arazzo worker")
	case fl.trace != "":
		return errors.New("--trace records requests as they go to the network, which happens on the workers: it does not go with --temporal-address (use --events)")
	}
	return nil
}

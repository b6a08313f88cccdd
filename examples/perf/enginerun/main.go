// Command enginerun is the floor of examples/perf's peak-RSS row: the
// poll workflow run through the engine library alone, with none of what the
// arazzo CLI links besides (cobra, the AWS credential chain, the message
// transports, the MCP server, the emulators). What it needs above the raw
// loop is what the engine's own dependencies cost.
//
//	enginerun DOC URL POLLS
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/source"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: enginerun DOC URL POLLS")
		os.Exit(2)
	}
	polls, err := strconv.Atoi(os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx := context.Background()
	plan, diags := engine.LoadFile(ctx, os.Args[1], &source.Loader{})
	if plan == nil {
		fmt.Fprintln(os.Stderr, diags.Error())
		os.Exit(2)
	}
	res, err := plan.Run(ctx, "startPollList", map[string]any{"Polls": polls}, &engine.Options{
		Servers:      map[string]string{"bench": os.Args[2]},
		PollInterval: -1,
		MaxSteps:     polls + 10,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if res.Outputs["status"] != "COMPLETED" {
		fmt.Fprintf(os.Stderr, "%s: %v\n", res.Status, res.Outputs)
		os.Exit(1)
	}
}

package main

import (
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/arazzo-go/arazzo/engine"
)

func newGraphCmd(h host) *cobra.Command {
	var workflow, format string
	cmd := &cobra.Command{
		Use:   "graph FILE",
		Short: "Draw a workflow's control flow as Mermaid or Graphviz DOT",
		Long: `graph draws a workflow's steps, the sequential flow between them, goto, retry and
end edges labelled with their criteria, and the workflows its steps call.`,
		Example: `  arazzo graph workflows/amazon-healthlake-export.arazzo.yaml > flow.mmd
  arazzo graph flow.yaml --workflow login --format dot | dot -Tsvg > login.svg`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "mermaid" && format != "dot" {
				return withCode(exitUsage, fmt.Errorf("unknown --format %q (mermaid or dot)", format))
			}
			plan, err := loadPlan(cmd, h, args[0], false)
			if err != nil {
				return err
			}
			w, err := pickWorkflow(plan, workflow)
			if err != nil {
				return withCode(exitUsage, err)
			}
			g := buildGraph(w)
			if format == "dot" {
				g.dot(cmd.OutOrStdout())
			} else {
				g.mermaid(cmd.OutOrStdout())
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&workflow, "workflow", "", "workflowId to draw (optional when the document has one workflow)")
	cmd.Flags().StringVar(&format, "format", "mermaid", "mermaid or dot")
	return cmd
}

type gNode struct {
	id, label, shape string // shape: step, call, start, end, fail, workflow
}

type gEdge struct {
	from, to, label string
	dashed          bool
}

type gCluster struct {
	id, label string
	nodes     []gNode
}

type graph struct {
	clusters []*gCluster
	edges    []gEdge
	seen     map[*engine.Workflow]bool
}

var nonID = regexp.MustCompile(`[^A-Za-z0-9_]`)

func nodeID(w *engine.Workflow, step string) string {
	return nonID.ReplaceAllString(w.ID, "_") + "__" + nonID.ReplaceAllString(step, "_")
}

func buildGraph(w *engine.Workflow) *graph {
	g := &graph{seen: map[*engine.Workflow]bool{}}
	g.add(w)
	return g
}

// add draws a workflow as a cluster, then the workflows it calls or goes to.
func (g *graph) add(w *engine.Workflow) {
	if g.seen[w] {
		return
	}
	g.seen[w] = true
	c := &gCluster{id: "wf_" + nonID.ReplaceAllString(w.ID, "_"), label: "workflow " + w.ID}
	g.clusters = append(g.clusters, c)
	start, end, fail := nodeID(w, "start"), nodeID(w, "end"), nodeID(w, "fail")
	c.nodes = append(c.nodes, gNode{id: start, label: "start", shape: "start"})
	var more []*engine.Workflow
	steps := w.Order()
	for i, s := range steps {
		id := nodeID(w, s.ID)
		if i == 0 {
			g.edges = append(g.edges, gEdge{from: start, to: id})
		}
		switch {
		case s.Callee != nil:
			c.nodes = append(c.nodes, gNode{id: id, label: s.ID + "\ncalls " + s.Callee.ID, shape: "call"})
			g.edges = append(g.edges, gEdge{from: id, to: nodeID(s.Callee, "start"), label: "call", dashed: true})
			more = append(more, s.Callee)
		case s.Operation != nil:
			c.nodes = append(c.nodes, gNode{id: id, label: s.ID + "\n" + s.Operation.Method + " " + s.Operation.ID, shape: "step"})
		case s.Kind == engine.MessageStep:
			c.nodes = append(c.nodes, gNode{id: id, label: s.ID + "\nAsyncAPI " + s.Doc.Action, shape: "step"})
		default:
			c.nodes = append(c.nodes, gNode{id: id, label: s.ID, shape: "step"})
		}
		next := end
		if i+1 < len(steps) {
			next = nodeID(w, steps[i+1].ID)
		}
		if !g.actionEdges(w, s, s.OnSuccess, id, end, fail, &more) {
			g.edges = append(g.edges, gEdge{from: id, to: next, label: "success"})
		}
		if !g.actionEdges(w, s, s.OnFailure, id, fail, fail, &more) {
			g.edges = append(g.edges, gEdge{from: id, to: fail, label: "failure", dashed: true})
		}
	}
	c.nodes = append(c.nodes, gNode{id: end, label: "end", shape: "end"}, gNode{id: fail, label: "failed", shape: "fail"})
	for _, m := range more {
		g.add(m)
	}
}

// actionEdges draws a step's actions and reports whether one of them
// always matches (so no default edge is needed).
func (g *graph) actionEdges(w *engine.Workflow, s *engine.Step, acts []*engine.Action, from, endNode, fail string, more *[]*engine.Workflow) bool {
	catchAll := false
	for _, a := range acts {
		label := a.Name
		var conds []string
		for _, c := range a.Criteria {
			conds = append(conds, c.Spec.Condition)
		}
		if len(conds) > 0 {
			label += ": " + strings.Join(conds, " && ")
		}
		switch a.Type {
		case "end":
			g.edges = append(g.edges, gEdge{from: from, to: endNode, label: label})
		case "goto":
			switch {
			case a.Step != nil:
				g.edges = append(g.edges, gEdge{from: from, to: nodeID(w, a.Step.ID), label: label})
			case a.TargetWorkflow != nil:
				g.edges = append(g.edges, gEdge{from: from, to: nodeID(a.TargetWorkflow, "start"), label: label})
				*more = append(*more, a.TargetWorkflow)
			}
		case "retry":
			label = fmt.Sprintf("%s: retry ×%d", a.Name, a.RetryLimit)
			if len(conds) > 0 {
				label += " if " + strings.Join(conds, " && ")
			}
			g.edges = append(g.edges, gEdge{from: from, to: from, label: label, dashed: true})
			if a.Step != nil {
				g.edges = append(g.edges, gEdge{from: from, to: nodeID(w, a.Step.ID), label: "before retry", dashed: true})
			}
			if a.TargetWorkflow != nil {
				g.edges = append(g.edges, gEdge{from: from, to: nodeID(a.TargetWorkflow, "start"), label: "before retry", dashed: true})
				*more = append(*more, a.TargetWorkflow)
			}
			continue // a retry is never a catch-all: once spent, the flow moves on
		}
		if len(a.Criteria) == 0 {
			catchAll = true
		}
	}
	return catchAll
}

func mermaidText(s string) string {
	s = strings.ReplaceAll(s, `"`, "#quot;")
	return strings.ReplaceAll(s, "\n", "<br/>")
}

func (g *graph) mermaid(out io.Writer) {
	fmt.Fprintln(out, "flowchart TD")
	for _, c := range g.clusters {
		fmt.Fprintf(out, "  subgraph %s[\"%s\"]\n", c.id, mermaidText(c.label))
		for _, n := range c.nodes {
			l := mermaidText(n.label)
			switch n.shape {
			case "start", "end":
				fmt.Fprintf(out, "    %s([\"%s\"])\n", n.id, l)
			case "fail":
				fmt.Fprintf(out, "    %s{{\"%s\"}}\n", n.id, l)
			case "call":
				fmt.Fprintf(out, "    %s[[\"%s\"]]\n", n.id, l)
			default:
				fmt.Fprintf(out, "    %s[\"%s\"]\n", n.id, l)
			}
		}
		fmt.Fprintln(out, "  end")
	}
	for _, e := range g.edges {
		arrow := "-->"
		if e.dashed {
			arrow = "-.->"
		}
		if e.label == "" {
			fmt.Fprintf(out, "  %s %s %s\n", e.from, arrow, e.to)
		} else {
			fmt.Fprintf(out, "  %s %s|\"%s\"| %s\n", e.from, arrow, mermaidText(e.label), e.to)
		}
	}
}

func dotText(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`), "\n", `\n`)
}

func (g *graph) dot(out io.Writer) {
	fmt.Fprintln(out, "digraph arazzo {")
	fmt.Fprintln(out, "  rankdir=TB;")
	fmt.Fprintln(out, "  node [fontname=\"Helvetica\"]; edge [fontname=\"Helvetica\", fontsize=10];")
	for _, c := range g.clusters {
		fmt.Fprintf(out, "  subgraph cluster_%s {\n    label=\"%s\";\n", c.id, dotText(c.label))
		for _, n := range c.nodes {
			shape := map[string]string{"start": "circle", "end": "doublecircle", "fail": "octagon", "call": "box3d", "step": "box"}[n.shape]
			fmt.Fprintf(out, "    %s [label=\"%s\", shape=%s];\n", n.id, dotText(n.label), shape)
		}
		fmt.Fprintln(out, "  }")
	}
	for _, e := range g.edges {
		attrs := []string{}
		if e.label != "" {
			attrs = append(attrs, fmt.Sprintf("label=\"%s\"", dotText(e.label)))
		}
		if e.dashed {
			attrs = append(attrs, "style=dashed")
		}
		fmt.Fprintf(out, "  %s -> %s [%s];\n", e.from, e.to, strings.Join(attrs, ", "))
	}
	fmt.Fprintln(out, "}")
}

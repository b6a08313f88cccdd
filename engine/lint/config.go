package lint

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/arazzo-go/arazzo/engine/diag"
	"github.com/arazzo-go/arazzo/engine/document"
	"github.com/arazzo-go/arazzo/expr/jsonpointer"
)

// ConfigFile is the name `arazzo lint` looks for in the working directory.
const ConfigFile = ".arazzo-lint.yaml"

// Config is a .arazzo-lint.yaml:
//
//	rules:                      # severity per rule: error, warn or off
//	  unused-output: off
//	  response-field-unknown: error
//	ignore:                     # files, by glob (** crosses directories)
//	  - vendor/**
//	  - path: workflows/legacy/*.arazzo.yaml
//	    rules: [unreachable-step]
//
// Paths are matched relative to the config file's directory.
type Config struct {
	Severity map[string]string // rule id → error, warn or off
	Ignore   []Ignore
	dir      string
}

// Ignore drops the findings of Rules (all when empty) in files matching Path.
type Ignore struct {
	Path  string
	Rules []string
	re    *regexp.Regexp
}

// LoadConfig reads a config file. Problems in it are errors with the
// file, line and column; a rule id it does not know is a warning, so a
// config written for a newer version still works.
func LoadConfig(path string) (*Config, diag.List, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	return ParseConfig(path, data)
}

// ParseConfig is LoadConfig for a config already in memory.
func ParseConfig(path string, data []byte) (*Config, diag.List, error) {
	cfg := &Config{Severity: map[string]string{}, dir: filepath.Dir(path)}
	var warnings diag.List
	fail := func(n *yaml.Node, format string, args ...any) error {
		return fmt.Errorf("%s:%d:%d: %s", path, n.Line, n.Column, fmt.Sprintf(format, args...))
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(root.Content) == 0 {
		return cfg, nil, nil
	}
	top := root.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, nil, fail(top, "the config is not a mapping (want rules: and ignore:)")
	}
	known := ruleIDs()
	checkRule := func(n *yaml.Node) {
		for _, id := range known {
			if id == n.Value {
				return
			}
		}
		warnings = append(warnings, diag.Diagnostic{File: path, Line: n.Line, Column: n.Column, Severity: diag.Warning, Rule: "lint-config",
			Message: fmt.Sprintf("unknown rule %q%s; it is ignored (arazzo lint --list-rules lists them)", n.Value, suggest(n.Value, known))})
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		switch k.Value {
		case "rules":
			if v.Kind != yaml.MappingNode {
				return nil, nil, fail(v, "rules: want a mapping of rule id to error, warn or off")
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				id, sev := v.Content[j], v.Content[j+1]
				s := strings.ToLower(sev.Value)
				switch s {
				case "warning":
					s = "warn"
				case "error", "warn", "off":
				default:
					return nil, nil, fail(sev, "rule %s: severity %q is not error, warn or off", id.Value, sev.Value)
				}
				checkRule(id)
				cfg.Severity[id.Value] = s
			}
		case "ignore":
			if v.Kind != yaml.SequenceNode {
				return nil, nil, fail(v, "ignore: want a list of paths, or of {path, rules}")
			}
			for _, e := range v.Content {
				var ig Ignore
				switch e.Kind {
				case yaml.ScalarNode:
					ig.Path = e.Value
				case yaml.MappingNode:
					var raw struct {
						Path  string   `yaml:"path"`
						Rules []string `yaml:"rules"`
					}
					if err := e.Decode(&raw); err != nil {
						return nil, nil, fail(e, "ignore entry: %v", err)
					}
					ig.Path, ig.Rules = raw.Path, raw.Rules
					for j := 0; j+1 < len(e.Content); j += 2 {
						if e.Content[j].Value == "rules" {
							for _, r := range e.Content[j+1].Content {
								checkRule(r)
							}
						}
					}
				default:
					return nil, nil, fail(e, "ignore entry: want a path or {path, rules}")
				}
				if ig.Path == "" {
					return nil, nil, fail(e, "ignore entry has no path")
				}
				ig.re = globRE(ig.Path)
				cfg.Ignore = append(cfg.Ignore, ig)
			}
		default:
			return nil, nil, fail(k, "unknown key %q (want rules or ignore)", k.Value)
		}
	}
	return cfg, warnings, nil
}

// globRE turns a glob into a regexp: * and ? stay within a path segment,
// ** crosses segments.
func globRE(glob string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	g := filepath.ToSlash(glob)
	for i := 0; i < len(g); i++ {
		switch c := g[i]; {
		case c == '*' && i+1 < len(g) && g[i+1] == '*':
			i++
			if i+1 < len(g) && g[i+1] == '/' {
				i++
				b.WriteString("(?:.*/)?")
			} else {
				b.WriteString(".*")
			}
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func (c *Config) ignored(file, rule string) bool {
	rel := file
	if abs, err := filepath.Abs(file); err == nil {
		if dir, err := filepath.Abs(c.dir); err == nil {
			if r, err := filepath.Rel(dir, abs); err == nil && !strings.HasPrefix(r, "..") {
				rel = r
			}
		}
	}
	rel = filepath.ToSlash(rel)
	for _, ig := range c.Ignore {
		if !ig.re.MatchString(rel) && !ig.re.MatchString(filepath.ToSlash(file)) {
			continue
		}
		if len(ig.Rules) == 0 {
			return true
		}
		for _, r := range ig.Rules {
			if r == rule {
				return true
			}
		}
	}
	return false
}

// Apply sets each finding's severity from the config, drops those it
// turns off or ignores, and those an x-arazzo-lint-ignore extension in
// doc silences. A nil config applies only the extensions; doc may be nil.
func (c *Config) Apply(doc *document.Document, diags diag.List) diag.List {
	sil := silencers(doc)
	var out diag.List
	for _, d := range diags {
		if c != nil {
			if c.ignored(d.File, d.Rule) {
				continue
			}
			switch c.Severity[d.Rule] {
			case "off":
				continue
			case "warn":
				d.Severity = diag.Warning
			case "error":
				d.Severity = diag.Error
			}
		}
		if doc != nil && d.File == doc.File && sil.silenced(d) {
			continue
		}
		out = append(out, d)
	}
	out.Sort()
	return out
}

// silencer is an object carrying the ignore extension: the lines its
// value spans, and the rules it silences ("all" for every one).
type silencer struct {
	from, to int
	rules    map[string]bool
}

type silencerList []silencer

func (l silencerList) silenced(d diag.Diagnostic) bool {
	for _, s := range l {
		if d.Line >= s.from && d.Line <= s.to && (s.rules["all"] || s.rules[d.Rule]) {
			return true
		}
	}
	return false
}

// silencers finds every object with the ignore extension. An object's
// span is the lines of everything inside it, found through the
// document's pointer index.
func silencers(doc *document.Document) silencerList {
	if doc == nil {
		return nil
	}
	var out silencerList
	var walk func(v any, ptr string, depth int)
	walk = func(v any, ptr string, depth int) {
		if depth > 64 {
			return
		}
		switch x := v.(type) {
		case map[string]any:
			if ext, ok := x[IgnoreExtension]; ok {
				s := silencer{rules: map[string]bool{}}
				switch e := ext.(type) {
				case string:
					s.rules[e] = true
				case []any:
					for _, r := range e {
						if rs, ok := r.(string); ok {
							s.rules[rs] = true
						}
					}
				}
				s.from, s.to = span(doc, ptr)
				out = append(out, s)
			}
			for k, c := range x {
				walk(c, ptr+"/"+jsonpointer.Escape(k), depth+1)
			}
		case []any:
			for i, c := range x {
				walk(c, fmt.Sprintf("%s/%d", ptr, i), depth+1)
			}
		}
	}
	walk(doc.Raw, "", 0)
	return out
}

func span(doc *document.Document, ptr string) (from, to int) {
	if ptr == "" {
		return 1, 1 << 30
	}
	from = 1 << 30
	for p, pos := range doc.Index {
		if p == ptr || strings.HasPrefix(p, ptr+"/") {
			from, to = min(from, pos.Line), max(to, pos.Line)
		}
	}
	// The object's own line: a diagnostic on its first key (a step's
	// stepId) sits on the line before a value a sequence item starts at.
	if p, ok := doc.Index[ptr]; ok {
		from = min(from, p.Line)
	}
	return from, to
}

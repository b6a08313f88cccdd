package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/auth/security"
)

// authFlags are where credentials come from besides the environment.
type authFlags struct {
	values []string // --auth SOURCE.SCHEME[.FIELD]=VALUE
	file   string   // --auth-file
	// lenient drops credentials for sources the plans do not declare,
	// rather than calling them typos: a worker's serve many documents.
	lenient bool
}

// authLayers reads --auth and --auth-file and checks that every key names
// a source and a security scheme of one of the plans; the layers are in
// the documented order: flags, file, environment (x-security values come
// last, in the middleware).
func authLayers(fl *authFlags, plans []*engine.Plan, getenv func(string) string) ([]security.Layer, []string, error) {
	schemes := map[string][]*security.Scheme{}
	for _, p := range plans {
		for src, ss := range security.PlanSchemes(p) {
			schemes[src] = append(schemes[src], ss...)
		}
	}
	var layers []security.Layer
	var secrets []string
	flags, err := security.ParseFlags(fl.values)
	if err != nil {
		return nil, nil, err
	}
	if flags, err = security.Check(fl.only(flags, schemes), "--auth", schemes); err != nil {
		return nil, nil, err
	}
	layers = append(layers, flags.Layer("--auth"))
	secrets = append(secrets, flags.All()...)
	if fl.file != "" {
		data, err := os.ReadFile(fl.file)
		if err != nil {
			return nil, nil, fmt.Errorf("--auth-file: %v", err)
		}
		vals, err := security.ParseFile(fl.file, data)
		if err != nil {
			return nil, nil, fmt.Errorf("--auth-file %v", err)
		}
		if vals, err = security.Check(fl.only(vals, schemes), "--auth-file "+fl.file, schemes); err != nil {
			return nil, nil, err
		}
		layers = append(layers, vals.Layer("--auth-file"))
		secrets = append(secrets, vals.All()...)
	}
	return append(layers, security.Env(getenv)), secrets, nil
}

// only drops, when lenient, the credentials of sources the plans do not
// declare schemes for.
func (fl *authFlags) only(v security.Values, schemes map[string][]*security.Scheme) security.Values {
	if fl.lenient {
		for src := range v {
			if _, ok := schemes[src]; !ok {
				delete(v, src)
			}
		}
	}
	return v
}

// authInfo is one security scheme as describe --auth shows it.
type authInfo struct {
	Source string            `json:"source"`
	Scheme string            `json:"scheme"`
	Kind   string            `json:"kind"`
	Flag   string            `json:"flag"`
	Env    string            `json:"env"`
	Fields map[string]string `json:"fields"` // field → its variable
	Note   string            `json:"note,omitempty"`
}

func describeAuth(plan *engine.Plan) []authInfo {
	all := security.PlanSchemes(plan)
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	out := []authInfo{}
	for _, src := range names {
		for _, s := range all[src] {
			ai := authInfo{Source: src, Scheme: s.Name, Kind: string(s.Kind),
				Flag: fmt.Sprintf("--auth %s.%s=%s", src, s.Name, security.ValueForm(s.Kind)),
				Env:  security.EnvName(src, s.Name, ""), Fields: map[string]string{}}
			for _, f := range security.Fields(s.Kind) {
				ai.Fields[f] = security.EnvName(src, s.Name, f)
			}
			switch s.Kind {
			case security.OAuth2:
				ai.Kind = strings.TrimPrefix(s.Describe(), fmt.Sprintf("%q (", s.Name))
				ai.Kind = strings.TrimSuffix(ai.Kind, ")")
				if s.Def.Flows.ClientCredentials == nil && s.Def.Flows.Password == nil {
					ai.Note = "browser flows are not run: give a token (field token)"
				} else if s.Def.Flows.Password != nil {
					ai.Note = "password flow: fields username and password"
				}
			case security.SigV4:
				ai.Note = "signed by the SigV4 middleware; without these, the AWS credential chain applies"
			}
			out = append(out, ai)
		}
	}
	return out
}

func printAuth(out io.Writer, infos []authInfo, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(infos)
	}
	if len(infos) == 0 {
		fmt.Fprintln(out, "no source declares security schemes")
		return nil
	}
	for _, a := range infos {
		fmt.Fprintf(out, "%s.%s  %s\n", a.Source, a.Scheme, a.Kind)
		fmt.Fprintf(out, "  flag: %s\n", a.Flag)
		fmt.Fprintf(out, "  env:  %s\n", a.Env)
		fields := make([]string, 0, len(a.Fields))
		for f := range a.Fields {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		for _, f := range fields {
			fmt.Fprintf(out, "        %s (%s)\n", a.Fields[f], f)
		}
		if a.Note != "" {
			fmt.Fprintf(out, "  note: %s\n", a.Note)
		}
	}
	return nil
}

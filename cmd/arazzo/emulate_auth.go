package main

import (
	"fmt"
	"net/http/httptest"
	"net/url"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/auth/security"
	"github.com/arazzo-go/arazzo/examples/emulators/authserver"
)

// emulateAuth, for --emulate auth, starts the auth example's API in this
// process and sends every source that declares security schemes (other
// than SigV4) to it, keeping the path of the source's server URL
// (http://127.0.0.1:8090/oauth becomes <emulator>/oauth). Credentials
// still come from --auth, --auth-file or the environment, so the example
// shows how they are given.
func emulateAuth(plan *engine.Plan, opts *engine.Options, emulate string, note func(string)) (func(), error) {
	if emulate != "auth" {
		return func() {}, nil
	}
	var names []string
	for name, schemes := range security.PlanSchemes(plan) {
		for _, s := range schemes {
			if s.Kind != security.SigV4 {
				names = append(names, name)
				break
			}
		}
	}
	if len(names) == 0 {
		return func() {}, fmt.Errorf("--emulate auth: no source of this document declares security schemes other than SigV4")
	}
	srv := httptest.NewServer(authserver.New(authserver.Config{}))
	for _, name := range names {
		path := ""
		if ref := plan.Source(name); ref.Source.OpenAPI != nil && len(ref.Source.OpenAPI.Servers) > 0 {
			if u, err := url.Parse(ref.Source.OpenAPI.Servers[0].URL); err == nil {
				path = u.Path
			}
		}
		if _, set := opts.Servers[name]; !set {
			opts.Servers[name] = srv.URL + path
		}
	}
	note("emulating the auth example's API at " + srv.URL)
	return srv.Close, nil
}

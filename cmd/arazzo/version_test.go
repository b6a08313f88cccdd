package main

import (
	"runtime/debug"
	"testing"
)

func TestDescribeBuild(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var out []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			out = append(out, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	for _, tc := range []struct {
		bi   *debug.BuildInfo
		want string
	}{
		{nil, "(devel)"},
		{&debug.BuildInfo{}, "(devel)"},
		{&debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}}, "v1.2.0"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("vcs.revision", "0123456789abcdef0123", "vcs.time", "2026-11-26T07:00:00Z", "vcs.modified", "false")},
			"(devel) (commit 0123456789ab, 2026-11-26T07:00:00Z)"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("vcs.revision", "abc", "vcs.modified", "true")},
			"(devel) (commit abc, modified)"},
	} {
		if got := describeBuild(tc.bi); got != tc.want {
			t.Errorf("describeBuild(%+v) = %q, want %q", tc.bi, got, tc.want)
		}
	}
}

func TestDescribeBuildPseudoVersion(t *testing.T) {
	bi := &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261126073218-f1ffda3cae4e+dirty"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "f1ffda3cae4e0000"}, {Key: "vcs.modified", Value: "true"}}}
	if got := describeBuild(bi); got != bi.Main.Version {
		t.Errorf("a pseudo-version is not repeated: %q", got)
	}
}

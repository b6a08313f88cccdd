// Command deps links net/http and three of the dependencies the project
// chose for the engine (kin-openapi, yaml.v3, PaesslerAG/jsonpath) and
// exits: examples/perf compares its peak RSS with ../nethttp's, which links
// net/http alone, to show what linking them costs before any work.
package main

import (
	"fmt"
	_ "net/http"
	"os"
	"strings"

	_ "github.com/PaesslerAG/jsonpath"
	_ "github.com/getkin/kin-openapi/openapi3"
	_ "github.com/getkin/kin-openapi/openapi3filter"
	_ "gopkg.in/yaml.v3"
)

func main() {
	// The peak RSS of this process image: rusage's figure would be the
	// parent's when it is larger (see hwm in examples/perf).
	status, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			fmt.Println(line)
		}
	}
}

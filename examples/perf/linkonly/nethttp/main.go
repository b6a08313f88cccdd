// Command nethttp links net/http, as the raw loop does, and exits: the
// baseline of ../deps in examples/perf.
package main

import (
	"fmt"
	_ "net/http"
	"os"
	"strings"
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

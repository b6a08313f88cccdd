//go:build unix

// Command perf measures the arazzo binary the way a user meets it: a
// separate process polling a loopback job API served by another process,
// next to a raw net/http client loop making the same calls, measured
// alternately in the same run. Only ratios within one run mean anything on a
// shared machine, so every row prints medians and the ratio of the medians.
//
//	go run ./examples/perf                      every row, 5 pairs each
//	go run ./examples/perf -runs 9 -polls 2000  one workload, more pairs
//	go run ./examples/perf -speakeasy           also build a validator on speakeasy-api/openapi (needs the module proxy)
//	go run ./examples/perf -compare OLD         this build against an older one, pair by pair
//
// It is a program rather than a Go benchmark because it measures whole
// processes (start-up, exit, peak RSS from rusage) and compares three of
// them; the same binary is the job API (`perf serve`) and the raw client
// (`perf raw URL POLLS`), so nothing outside the repository is needed.
package main

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

var (
	//go:embed poll.arazzo.yaml
	pollDoc []byte
	//go:embed poll.openapi.yaml
	pollAPI []byte
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "serve":
			serve()
			return
		case "raw":
			if len(os.Args) != 4 {
				fatalf("usage: perf raw URL POLLS")
			}
			n, err := strconv.Atoi(os.Args[3])
			if err != nil {
				fatalf("raw: %v", err)
			}
			raw(os.Args[2], n)
			return
		}
	}
	runs := flag.Int("runs", 5, "pairs of runs per row (arazzo and its baseline, alternated)")
	pollsFlag := flag.String("polls", "2000,20000", "poll counts of the whole-process rows, comma-separated")
	arazzoBin := flag.String("arazzo", "", "the arazzo binary to measure (default: built from ./cmd/arazzo)")
	speakeasy := flag.Bool("speakeasy", false, "build a validator on github.com/speakeasy-api/openapi's arazzo package and compare validate with it")
	docs := flag.Int("docs", 100, "documents in the one-process validate row")
	compare := flag.String("compare", "", "another arazzo binary (an older build): measure it against this one, pair by pair, instead of the table")
	flag.Parse()

	gomod := strings.TrimSpace(output("go", "env", "GOMOD"))
	if !strings.HasSuffix(gomod, "go.mod") {
		fatalf("run it inside the arazzo module: go run ./examples/perf")
	}
	root := strings.TrimSuffix(gomod, "go.mod")
	tmp, err := os.MkdirTemp("", "arazzo-perf-")
	check(err)
	atExit = append(atExit, func() { os.RemoveAll(tmp) })
	defer exit()
	bin := *arazzoBin
	if bin == "" {
		bin = filepath.Join(tmp, "arazzo")
		progress("building arazzo")
		gocmd(root, "build", "-o", bin, "./cmd/arazzo")
	}
	self, err := os.Executable()
	check(err)
	// arazzo's schema cache (README, "The schema cache") lives in the
	// temporary directory, so the user's is neither read nor filled; rows
	// that measure a document arazzo has not seen turn it off.
	check(os.Setenv("ARAZZO_CACHE", filepath.Join(tmp, "cache")))
	doc := filepath.Join(tmp, "poll.arazzo.yaml")
	check(os.WriteFile(doc, pollDoc, 0o644))
	check(os.WriteFile(filepath.Join(tmp, "poll.openapi.yaml"), pollAPI, 0o644))

	server := exec.Command(self, "serve")
	stdout, err := server.StdoutPipe()
	check(err)
	check(server.Start())
	atExit = append(atExit, func() { server.Process.Kill() })
	port, err := bufio.NewReader(stdout).ReadString('\n')
	check(err)
	url := "http://127.0.0.1:" + strings.TrimSpace(port)

	if *compare != "" {
		// Before and after, in the same pairs: the load the two builds
		// see is the same, which two separate runs of the table cannot
		// promise on a shared machine.
		fmt.Println("| workload | `-compare` build | this build | ratio over the pairs: wall; CPU |")
		fmt.Println("|---|---|---|---|")
		for _, n := range append(pollCounts(*pollsFlag), 1) {
			label := fmt.Sprintf("start → %d polls → list", n)
			if n == 1 {
				label = "start → 1 poll → list (cold start)"
			}
			progress("%s, both builds", label)
			runs := *runs
			if n == 1 {
				runs = max(3*runs, 15)
			}
			a, b := pairs(runs, pollRun(bin, doc, url, n), pollRun(*compare, doc, url, n))
			fmt.Printf("| %s | %s | %s | %s |\n", label, b, a, ratio(a, b))
			if n == 1 {
				label = "start → 1 poll → list (cold start, a document never run: no schema cache)"
				progress("%s, both builds", label)
				off := []string{"ARAZZO_CACHE=off"}
				a, b = pairs(runs, append(off, pollRun(bin, doc, url, n)...), append(off, pollRun(*compare, doc, url, n)...))
				fmt.Printf("| %s | %s | %s | %s |\n", label, b, a, ratio(a, b))
			}
		}
		return
	}
	fmt.Println("| workload | baseline: wall median (range), median CPU, peak RSS | `arazzo`: the same | ratio: median of the pairs (range), wall; CPU | goal |")
	fmt.Println("|---|---|---|---|---|")
	counts := pollCounts(*pollsFlag)
	for _, n := range counts {
		progress("start → %d polls → list", n)
		a, r := pairs(*runs, pollRun(bin, doc, url, n), []string{self, "raw", url, strconv.Itoa(n)})
		fmt.Printf("| start → %d polls → list | %s | %s | %s | ≤ 1.10; RSS ≤ raw + 5 MB (%+.1f MB) |\n",
			n, r, a, ratio(a, r), float64(a.rss()-r.rss())/1024)
	}
	// The floor of the RSS goal: the same run through the engine library
	// alone, in a program that links nothing else.
	n := counts[len(counts)-1]
	progress("start → %d polls → list, the engine library alone", n)
	floor := filepath.Join(tmp, "enginerun")
	gocmd(root, "build", "-o", floor, "./examples/perf/enginerun")
	e, r := pairs(*runs, []string{floor, doc, url, strconv.Itoa(n)}, []string{self, "raw", url, strconv.Itoa(n)})
	fmt.Printf("| start → %d polls → list, the engine library alone (examples/perf/enginerun: no CLI, AWS, transports) | %s | %s | %s | RSS floor: raw %+.1f MB |\n",
		n, r, e, ratio(e, r), float64(e.rss()-r.rss())/1024)
	// And what linking the chosen dependencies costs before any work.
	progress("linking kin-openapi, yaml.v3 and PaesslerAG/jsonpath")
	deps, nethttp := filepath.Join(tmp, "linkdeps"), filepath.Join(tmp, "linknethttp")
	gocmd(root, "build", "-o", deps, "./examples/perf/linkonly/deps")
	gocmd(root, "build", "-o", nethttp, "./examples/perf/linkonly/nethttp")
	d, h := pairs(*runs, []string{deps}, []string{nethttp})
	fmt.Printf("| a program that links net/http, kin-openapi, yaml.v3 and PaesslerAG/jsonpath, and exits (examples/perf/linkonly) | net/http alone: %s | %s | %s | peak RSS %+.1f MB |\n",
		h, d, ratio(d, h), float64(d.rss()-h.rss())/1024)
	progress("cold start")
	a, r := pairs(max(3**runs, 15), pollRun(bin, doc, url, 1), []string{self, "raw", url, "1"})
	fmt.Printf("| start → 1 poll → list (cold start, the document run before) | %s | %s | %s; arazzo − raw %.1f ms | `arazzo` ≤ 20 ms |\n",
		r, a, ratio(a, r), ms(a.median()-r.median()))
	a, r = pairs(max(3**runs, 15), append([]string{"ARAZZO_CACHE=off"}, pollRun(bin, doc, url, 1)...), []string{self, "raw", url, "1"})
	fmt.Printf("| start → 1 poll → list (cold start, a document never run: no schema cache) | %s | %s | %s; arazzo − raw %.1f ms | `arazzo` ≤ 20 ms |\n",
		r, a, ratio(a, r), ms(a.median()-r.median()))

	seed := filepath.Join(root, "workflows", "amazon-healthlake-export.arazzo.yaml")
	many := manyDocs(tmp, root, seed, *docs)
	// speakeasy is the other validator's command for one document, or nil.
	var speakeasyOne []string
	if *speakeasy {
		progress("building the speakeasy-api/openapi validator")
		speakeasyOne = []string{buildSpeakeasy(tmp), seed}
	}
	progress("validate")
	// validate as CI meets it: documents that changed since the last run,
	// so no schema cache.
	one, o := pairs(3**runs, []string{"ARAZZO_CACHE=off", bin, "validate", seed}, speakeasyOne)
	batch, o2 := pairs(*runs, append([]string{"ARAZZO_CACHE=off", bin, "validate"}, many...), speakeasyOne)
	perDoc := batch.per(len(many))
	if o == nil {
		fmt.Printf("| `validate` of the seed | — | %s | — (run with -speakeasy) | |\n", one)
		fmt.Printf("| `validate` of %d documents, one process | — | %s per document | — (run with -speakeasy) | |\n", len(many), perDoc)
		return
	}
	fmt.Printf("| `validate` of the seed | speakeasy: %s | %s | %s | |\n", o, one, ratio(one, o))
	fmt.Printf("| `validate` of %d documents, one process | speakeasy, one document: %s | %s per document | %s | ≤ 1.00 |\n",
		len(many), o2, perDoc, ratio(perDoc, o2))
}

func pollCounts(list string) []int {
	var ns []int
	for _, s := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		check(err)
		ns = append(ns, n)
	}
	return ns
}

// pollRun is the arazzo command of a whole-process row.
func pollRun(bin, doc, url string, polls int) []string {
	return []string{bin, "run", doc, "--workflow", "startPollList", "--input", "Polls=" + strconv.Itoa(polls),
		"--server", "bench=" + url, "--poll-interval", "0", "--max-steps", strconv.Itoa(polls + 10), "--quiet"}
}

// samples are the wall times and peak RSS of the runs of one command.
type samples struct {
	wall []time.Duration
	cpu  []time.Duration // user + system: steadier than wall time on a busy machine
	rssK []int64
}

func (s *samples) median() time.Duration { return median(s.wall) }
func (s *samples) rss() int64            { return median(s.rssK) }

// per divides the wall times by n (one process handling n documents).
func (s *samples) per(n int) *samples {
	out := &samples{rssK: s.rssK}
	for i := range s.wall {
		out.wall = append(out.wall, s.wall[i]/time.Duration(n))
		out.cpu = append(out.cpu, s.cpu[i]/time.Duration(n))
	}
	return out
}

func (s *samples) String() string {
	if s == nil {
		return "—"
	}
	return fmt.Sprintf("%.1f ms (%.1f–%.1f), CPU %.1f ms, %.1f MB", ms(s.median()), ms(slices.Min(s.wall)), ms(slices.Max(s.wall)),
		ms(median(s.cpu)), float64(s.rss())/1024)
}

// ratio compares a with its baseline b: the median of the ratios of the
// pairs (each pair ran back to back, so it saw the same load; the steadiest
// figure on a shared machine) with their range, and the same for CPU time.
func ratio(a, b *samples) string {
	var walls, cpus []float64
	for i := range min(len(a.wall), len(b.wall)) {
		walls = append(walls, float64(a.wall[i])/float64(b.wall[i]))
		cpus = append(cpus, float64(a.cpu[i])/float64(b.cpu[i]))
	}
	return fmt.Sprintf("%.2f (%.2f–%.2f); CPU %.2f (%.2f–%.2f)", median(walls), slices.Min(walls), slices.Max(walls),
		median(cpus), slices.Min(cpus), slices.Max(cpus))
}

// pairs runs a and b n times each, alternating which goes first, so that
// noise from other work on the machine falls on both alike. b may be nil.
func pairs(n int, a, b []string) (*samples, *samples) {
	sa, sb := &samples{}, &samples{}
	for i := range n {
		first, second, s1, s2 := a, b, sa, sb
		if i%2 == 1 && b != nil {
			first, second, s1, s2 = b, a, sb, sa
		}
		measure(first, s1)
		if second != nil {
			measure(second, s2)
		}
	}
	if b == nil {
		sb = nil
	}
	return sa, sb
}

// measure runs one process to its end and records its wall time and peak
// RSS. Only the other validator may exit 1 (it found problems); any other
// failure ends the measurement, since a run that failed fast (its API gone,
// say) would pass for a fast one.
func measure(args []string, s *samples) {
	// Leading NAME=VALUE arguments are environment variables, as in sh.
	var env []string
	for len(args) > 0 && strings.Contains(args[0], "=") && !strings.ContainsRune(args[0], os.PathSeparator) {
		env, args = append(env, args[0]), args[1:]
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	err := cmd.Run()
	wall := time.Since(t0)
	if err != nil && (cmd.ProcessState.ExitCode() != 1 || filepath.Base(args[0]) != speakeasyBin) {
		fatalf("%s: %v\n%s", strings.Join(args[:min(len(args), 4)], " "), err, out.Bytes())
	}
	s.wall = append(s.wall, wall)
	s.cpu = append(s.cpu, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
	rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
	if kb, ok := hwm(out.Bytes()); ok {
		rss = kb
	}
	s.rssK = append(s.rssK, rss)
}

// hwm reads the "VmHWM: N kB" line a program measured here may print.
// Go starts children with vfork, so until exec a child shares this
// process's memory, and Linux carries that image's peak into the child's
// rusage: a process smaller than this one (about 7 MB) shows this one's
// peak. The rows that matter are larger, but linkonly's programs are not,
// so they report the peak of their own image.
func hwm(out []byte) (int64, bool) {
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb, err == nil
		}
	}
	return 0, false
}

// manyDocs writes n variants of the seed (each its own title) next to a
// copy of its OpenAPI description, as a repository of workflows would hold.
func manyDocs(tmp, root, seed string, n int) []string {
	dir := filepath.Join(tmp, "many", "workflows")
	check(os.MkdirAll(filepath.Join(tmp, "many", "openapi"), 0o755))
	check(os.MkdirAll(dir, 0o755))
	api, err := os.ReadFile(filepath.Join(root, "openapi", "amazon-healthlake-openapi.yaml"))
	check(err)
	check(os.WriteFile(filepath.Join(tmp, "many", "openapi", "amazon-healthlake-openapi.yaml"), api, 0o644))
	src, err := os.ReadFile(seed)
	check(err)
	var files []string
	for i := range n {
		body := bytes.Replace(src, []byte("  title: "), fmt.Appendf(nil, "  title: (%d) ", i), 1)
		f := filepath.Join(dir, fmt.Sprintf("flow-%03d.arazzo.yaml", i))
		check(os.WriteFile(f, body, 0o644))
		files = append(files, f)
	}
	return files
}

// speakeasyMain is the validator built by -speakeasy: what `openapi arazzo
// validate` does (unmarshal, then validate against the specification), on
// each file named.
const speakeasyMain = `package main

import (
	"context"
	"fmt"
	"os"

	"github.com/speakeasy-api/openapi/arazzo"
)

func main() {
	status := 0
	for _, name := range os.Args[1:] {
		f, err := os.Open(name)
		if err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		_, errs, err := arazzo.Unmarshal(context.Background(), f)
		f.Close()
		if err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		for _, e := range errs {
			fmt.Println(name, e)
			status = 1
		}
	}
	os.Exit(status)
}
`

// speakeasyBin is the name of the validator -speakeasy builds.
const speakeasyBin = "speakeasy-validate"

func buildSpeakeasy(tmp string) string {
	dir := filepath.Join(tmp, "speakeasy")
	check(os.MkdirAll(dir, 0o755))
	check(os.WriteFile(filepath.Join(dir, "main.go"), []byte(speakeasyMain), 0o644))
	check(os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module validator\n\ngo 1.26\n"), 0o644))
	gocmd(dir, "get", "github.com/speakeasy-api/openapi@v1.25.6")
	gocmd(dir, "mod", "tidy")
	bin := filepath.Join(dir, speakeasyBin)
	gocmd(dir, "build", "-o", bin, ".")
	return bin
}

// The job API: POST /start {"Polls": n} gives a job that answers
// IN_PROGRESS to its first n describes and COMPLETED after; POST /list
// names every job. Same shapes as an AWS-style job API.
func serve() {
	var mu sync.Mutex
	left := map[string]int{}
	polls := map[string]int{}
	reply := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /start", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Polls int }
		json.NewDecoder(r.Body).Decode(&in)
		mu.Lock()
		id := "job-" + strconv.Itoa(len(left)+1)
		left[id] = in.Polls
		mu.Unlock()
		reply(w, map[string]any{"JobId": id, "JobStatus": "SUBMITTED"})
	})
	mux.HandleFunc("POST /describe", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ JobId string }
		json.NewDecoder(r.Body).Decode(&in)
		mu.Lock()
		n, ok := left[in.JobId]
		status := "COMPLETED"
		if n > 0 {
			left[in.JobId], status = n-1, "IN_PROGRESS"
		}
		polls[in.JobId]++
		p := polls[in.JobId]
		mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			reply(w, map[string]any{"message": "no such job"})
			return
		}
		reply(w, map[string]any{"Job": map[string]any{"JobId": in.JobId, "JobStatus": status, "Polls": p}})
	})
	mux.HandleFunc("POST /list", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ids := make([]string, 0, len(left))
		for id := range left {
			ids = append(ids, id)
		}
		mu.Unlock()
		reply(w, map[string]any{"Jobs": ids})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	check(http.Serve(ln, mux))
}

// raw is the baseline: the same calls as poll.arazzo.yaml, written as a
// Go programmer would with net/http and encoding/json.
func raw(base string, polls int) {
	c := &http.Client{Timeout: 10 * time.Second}
	post := func(path string, body any) map[string]any {
		b, _ := json.Marshal(body)
		resp, err := c.Post(base+path, "application/json", bytes.NewReader(b))
		check(err)
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		check(err)
		var out map[string]any
		check(json.Unmarshal(data, &out))
		if resp.StatusCode != 200 {
			fatalf("%s: %s", path, resp.Status)
		}
		return out
	}
	id := post("/start", map[string]any{"Polls": polls})["JobId"].(string)
	for {
		job := post("/describe", map[string]any{"JobId": id})["Job"].(map[string]any)
		if job["JobStatus"] == "COMPLETED" {
			break
		}
	}
	post("/list", map[string]any{})
}

func median[T int64 | float64 | time.Duration](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func gocmd(dir string, args ...string) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func output(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	check(err)
	return string(out)
}

func progress(format string, args ...any) { fmt.Fprintf(os.Stderr, "perf: "+format+"\n", args...) }

func check(err error) {
	if err != nil {
		fatalf("%v", err)
	}
}

// atExit is what exit undoes (the server process, the temporary
// directory), also when a measurement fails.
var atExit []func()

func exit() {
	for i := len(atExit) - 1; i >= 0; i-- {
		atExit[i]()
	}
	atExit = nil
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "perf: "+format+"\n", args...)
	exit()
	os.Exit(1)
}

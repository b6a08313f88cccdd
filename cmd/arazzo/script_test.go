package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/arazzo-go/arazzo/examples/emulators/authserver"
	"github.com/arazzo-go/arazzo/examples/emulators/healthlake"
	"github.com/arazzo-go/arazzo/examples/emulators/petstore"
	"github.com/arazzo-go/arazzo/examples/emulators/rabbitbroker"
	"github.com/arazzo-go/arazzo/examples/emulators/sigv4verify"
)

var update = flag.Bool("update", false, "rewrite golden files and the expected files inside scripts")

// The CLI is tested as users run it, through the scripts in
// testdata/script: each runs arazzo commands and checks their stdout,
// stderr, exit codes and the files they write. See setupScript for what a
// script starts with, and the arazzo, exitcode and hits commands for what
// it may run besides testscript's own.
func TestScripts(t *testing.T) {
	testdata, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		Setup:         func(env *testscript.Env) error { return setupScript(env, testdata) },
		Cmds:          map[string]func(*testscript.TestScript, bool, []string){"arazzo": cmdArazzo, "exitcode": cmdExitcode, "hits": cmdHits, "events": cmdEvents, "rabbitmq": cmdRabbitMQ},
		Condition:     scriptCondition,
		UpdateScripts: *update,
	})
}

// Credentials the scripts' HealthLake accepts besides the emulator's test
// key: a session credential whose every part must stay out of any output.
const (
	canaryKeyID  = "ASIACANARY0000000001"
	canarySecret = "CANARY-SECRET-8f3a9c2e"
	canaryToken  = "CANARY-TOKEN-71d0b4e6"
)

// scriptState is what one script's commands share.
type scriptState struct {
	hits map[string]*atomic.Int64 // requests each server has received
	exit int                      // the last arazzo command's exit code
	ran  bool
}

type stateKey struct{}

func state(ts *testscript.TestScript) *scriptState {
	return ts.Value(stateKey{}).(*scriptState)
}

// setupScript gives every script, in $WORK, the CLI's test document
// cli.arazzo.yaml and its description testapi.openapi.yaml, and servers of
// its own, their base URLs in the environment:
//
//	$ITEMS       GET /v1/items/{id} and GET /v1/status (itemHandler)
//	$SHOP        token, orders and mounts (shopHandler, shop_test.go)
//	$SECURE      answers 401 to everything, echoing what it was sent
//	$HEALTHLAKE  the HealthLake emulator, verifying SigV4 signatures made
//	             with its test key or $CANARY_KEY_ID/$CANARY_SECRET/$CANARY_TOKEN
//	$AUTH        the authserver, enforcing every security scheme and echoing
//	             the credentials it was sent (see serveAuth)
//	$AUTH_TLS    the same over TLS, requiring a client certificate
//	$STS         STS's query protocol for GetCallerIdentity and AssumeRole,
//	             verifying SigV4 (service sts, region eu-west-1) made with
//	             the HealthLake test key (stsHandler)
//
// $REPO is the repository's root, $SEED and $SEED_INPUTS the seed workflow
// and its example inputs, $AUTH_FLOW the security tests' document (a
// workflow per scheme; its sources are items and prices).
func setupScript(env *testscript.Env, testdata string) error {
	for _, name := range []string{"cli.arazzo.yaml", "testapi.openapi.yaml"} {
		data, err := os.ReadFile(filepath.Join(testdata, name))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(env.WorkDir, name), data, 0o644); err != nil {
			return err
		}
	}
	st := &scriptState{hits: map[string]*atomic.Int64{}}
	serve := func(name string, h http.Handler) {
		n := new(atomic.Int64)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			h.ServeHTTP(w, r)
		}))
		env.Defer(srv.Close)
		st.hits[strings.ToLower(name)] = n
		env.Setenv(name, srv.URL)
	}
	serve("ITEMS", itemHandler())
	serve("SHOP", shopHandler())
	serve("SECURE", secureHandler())
	serve("HANG", stallHandler(false))
	serve("DRIP", stallHandler(true))
	serve("STS", stsHandler())
	serve("HEALTHLAKE", healthlake.NewVerifying(healthlake.Config{Credentials: map[string]healthlake.Credential{
		healthlake.TestAccessKeyID: {Secret: healthlake.TestSecretAccessKey},
		canaryKeyID:                {Secret: canarySecret, SessionToken: canaryToken},
	}}))
	if err := serveAuth(env, serve); err != nil {
		return err
	}
	env.Values[stateKey{}] = st

	repo := filepath.Dir(filepath.Dir(filepath.Dir(testdata)))
	for k, v := range map[string]string{
		"REPO":          repo,
		"SEED":          filepath.Join(repo, "workflows", "amazon-healthlake-export.arazzo.yaml"),
		"SEED_INPUTS":   filepath.Join(repo, "examples", "healthlake-export.inputs.json"),
		"AUTH_FLOW":     filepath.Join(repo, "engine", "auth", "security", "testdata", "flow.arazzo.yaml"),
		"CANARY_KEY_ID": canaryKeyID,
		"CANARY_SECRET": canarySecret,
		"CANARY_TOKEN":  canaryToken,
		companionEnv:    testCompanion,
	} {
		env.Setenv(k, v)
	}
	return nil
}

// serveAuth starts the authserver twice, over HTTP ($AUTH) and over TLS
// with client certificates required ($AUTH_TLS), writes a test CA and a
// client certificate made for this script into $WORK ($CA_FILE,
// $CLIENT_CERT, $CLIENT_KEY), and exports the server's test credentials
// ($AUTH_CLIENT_ID, $AUTH_CLIENT_SECRET, $AUTH_USER, $AUTH_PASSWORD,
// $AUTH_API_KEY, $AUTH_BEARER) for the scripts, and their canary checks.
func serveAuth(env *testscript.Env, serve func(string, http.Handler)) error {
	api := authserver.New(authserver.Config{Echo: true})
	serve("AUTH", api)
	pki, err := authserver.NewPKI()
	if err != nil {
		return err
	}
	ca, cert, key, err := pki.WriteFiles(env.WorkDir)
	if err != nil {
		return err
	}
	srv := httptest.NewUnstartedServer(api)
	if srv.TLS, err = pki.ServerTLS(); err != nil {
		return err
	}
	srv.StartTLS()
	env.Defer(srv.Close)
	for k, v := range map[string]string{
		"AUTH_TLS": srv.URL, "CA_FILE": ca, "CLIENT_CERT": cert, "CLIENT_KEY": key,
		"AUTH_CLIENT_ID": authserver.ClientID, "AUTH_CLIENT_SECRET": authserver.ClientSecret,
		"AUTH_USER": authserver.User, "AUTH_PASSWORD": authserver.Password,
		"AUTH_API_KEY": authserver.APIKey, "AUTH_BEARER": authserver.BearerToken,
	} {
		env.Setenv(k, v)
	}
	return nil
}

// cmdArazzo runs the CLI in this process, in the script's directory and
// with the script's environment (see host).
//
// Exit codes: "arazzo ..." must exit 0 and "! arazzo ..." must not; a
// script checks which code a failure had with "exitcode N" right after it.
//
// Standard input: testscript's stdin command feeds only exec, so a
// trailing "< FILE" gives the command FILE (or stdout, stderr) instead.
//
// The CLI opens relative file names from the script's directory by joining
// them to it; that prefix is taken out of its output again, so that messages
// name files as they were given, as they would from a real process.
func cmdArazzo(ts *testscript.TestScript, neg bool, args []string) {
	var stdin io.Reader = strings.NewReader("")
	if n := len(args); n >= 2 && args[n-2] == "<" {
		stdin = strings.NewReader(ts.ReadFile(args[n-1]))
		args = args[:n-2]
	}
	dir := ts.MkAbs(".")
	var stdout, stderr strings.Builder
	code := run(context.Background(), host{getenv: ts.Getenv, dir: dir}, args, stdin, &stdout, &stderr)
	unprefix := strings.NewReplacer(dir+string(filepath.Separator), "")
	unprefix.WriteString(ts.Stdout(), stdout.String())
	unprefix.WriteString(ts.Stderr(), stderr.String())
	st := state(ts)
	st.exit, st.ran = code, true
	switch {
	case code != 0 && !neg:
		ts.Fatalf("arazzo exited %d", code)
	case code == 0 && neg:
		ts.Fatalf("arazzo succeeded unexpectedly")
	}
}

// cmdExitcode checks the exit code of the last arazzo command: exitcode N.
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: exitcode N")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	if st := state(ts); !st.ran || st.exit != want {
		ts.Fatalf("arazzo exited %d, want %d", st.exit, want)
	}
}

// cmdEvents reads a JSON-lines event log (a file, or the last command's
// stdout with "stdout"), fails unless every line is an event with a kind
// and a time, and prints the kinds one per line: events FILE|stdout.
func cmdEvents(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: events FILE|stdout")
	}
	var log string
	if args[0] == "stdout" {
		log = ts.ReadFile("stdout")
	} else {
		log = ts.ReadFile(args[0])
	}
	var kinds strings.Builder
	for i, line := range strings.Split(strings.TrimSuffix(log, "\n"), "\n") {
		var e struct{ Kind, Time string }
		if err := json.Unmarshal([]byte(line), &e); err != nil || e.Kind == "" || e.Time == "" {
			ts.Fatalf("line %d is not an event (%v): %q", i+1, err, line)
		}
		kinds.WriteString(e.Kind + "\n")
	}
	ts.Stdout().Write([]byte(kinds.String()))
}

// cmdHits checks how many requests a server has received so far:
// hits items|secure|healthlake N.
func cmdHits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: hits SERVER N")
	}
	n, ok := state(ts).hits[args[0]]
	if !ok {
		ts.Fatalf("no server %q", args[0])
	}
	want, err := strconv.ParseInt(args[1], 10, 64)
	ts.Check(err)
	if got := n.Load(); got != want {
		ts.Fatalf("%s received %d requests, want %d", args[0], got, want)
	}
}

// stallHandler never finishes a response until the client gives up: it
// sends nothing at all, or (drip) headers and then a chunk of a JSON body
// every few milliseconds, forever.
func stallHandler(drip bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !drip {
			<-r.Context().Done()
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		io.WriteString(w, `{"pad":"`)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-r.Context().Done():
				return
			case <-t.C:
				io.WriteString(w, "xxxxxxxx")
				w.(http.Flusher).Flush()
			}
		}
	})
}

// itemHandler serves GET /v1/items/{id} (id 404 does not exist) and
// GET /v1/status, a job that is always running.
func itemHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/items/404":
			w.WriteHeader(404)
			fmt.Fprint(w, `{"message":"item 404 does not exist"}`)
		case "/v1/status":
			fmt.Fprint(w, `{"status":"running"}`)
		default:
			id := strings.TrimPrefix(r.URL.Path, "/v1/items/")
			fmt.Fprintf(w, `{"id": %s, "name": "item-%s"}`, id, id)
		}
	})
}

// stsHandler answers the awsQuery form STS reads, in STS's XML, after
// checking the signature from the specification; anything it does not
// know gets STS's XML error.
func stsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/xml")
		fail := func(status int, code, msg string) {
			w.WriteHeader(status)
			fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error></ErrorResponse>`, code, msg)
		}
		if err := sigv4verify.Check(r, body, healthlake.TestSecretAccessKey, "eu-west-1", "sts"); err != nil {
			fail(403, "SignatureDoesNotMatch", err.Error())
			return
		}
		form, _ := url.ParseQuery(string(body))
		switch {
		case r.Method != "POST" || r.URL.Path != "/" || form.Get("Version") != "2011-06-15":
			fail(400, "InvalidAction", "STS takes POST / with Action and Version 2011-06-15")
		case form.Get("Action") == "GetCallerIdentity":
			fmt.Fprint(w, `<GetCallerIdentityResponse><GetCallerIdentityResult><Account>210987654321</Account><Arn>arn:aws:iam::210987654321:user/ops</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>`)
		case form.Get("Action") == "AssumeRole" && form.Get("RoleArn") == "arn:aws:iam::210987654321:role/"+form.Get("RoleSessionName"):
			fmt.Fprintf(w, `<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIA%s</AccessKeyId></Credentials></AssumeRoleResult></AssumeRoleResponse>`, strings.ToUpper(form.Get("Tags.member.1.Value")))
		default:
			fail(400, "ValidationError", "1 validation error detected: Value '"+form.Get("RoleArn")+"' at 'roleArn' is not a role of the caller's account")
		}
	})
}

// secureHandler refuses everything and echoes what it was sent in its
// errors, as careless APIs do.
func secureHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		json.NewEncoder(w).Encode(map[string]any{"message": "bad key " + r.Header.Get("X-Api-Key"), "got": string(body)})
	})
}

// checkGolden compares got with the file at path (-update rewrites it).
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil || string(want) != got {
		t.Fatalf("%s differs (go test -update rewrites it):\n%s", path, got)
	}
}

const seedDoc = "../../workflows/amazon-healthlake-export.arazzo.yaml"

// scriptCondition answers the scripts' own conditions: [rabbitmq] is
// whether RabbitMQ is installed. Without it a script guarded by
// "[!rabbitmq] skip" is skipped, unless ARAZZO_REQUIRE_BROKERS=1, which
// makes the condition an error. [temporal] is whether this build has
// Temporal (-tags temporal).
func scriptCondition(cond string) (bool, error) {
	switch cond {
	case "temporal":
		return temporalBuilt() == nil, nil
	case "rabbitmq":
		_, err := rabbitbroker.ServerPath()
		if err != nil && os.Getenv(rabbitbroker.RequireEnv) == "1" {
			return false, fmt.Errorf("%v; %s=1 requires it", err, rabbitbroker.RequireEnv)
		}
		return err == nil, nil
	}
	return false, fmt.Errorf("unknown condition %q", cond)
}

// The scripts' RabbitMQ: one broker for the test binary, started by the
// first script that asks (TestMain stops it). Its users are guest and svc
// (password $RABBITMQ_PASSWORD, a canary).
var rabbit = &rabbitbroker.Shared{Config: rabbitbroker.Config{Users: []rabbitbroker.User{
	{Name: "guest", Password: "guest"}, {Name: "svc", Password: rabbitCanary}}}}

const rabbitCanary = "CANARY-amqp-5e2b7c"

// cmdRabbitMQ starts the shared RabbitMQ if needed and the pet example's
// order service on it for the rest of the script, and exports the
// broker's address as $RABBITMQ and svc's password as $RABBITMQ_PASSWORD.
func cmdRabbitMQ(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: rabbitmq")
	}
	b := rabbit.Get(scriptTB{ts})
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() { done <- (&petstore.Orders{}).ServeAMQP(ctx, "amqp://guest:guest@"+b.Addr()+"/", ready) }()
	ts.Defer(func() { cancel(); <-done })
	select {
	case <-ready:
	case err := <-done:
		ts.Fatalf("the order service did not start: %v", err)
	}
	ts.Setenv("RABBITMQ", b.Addr())
	ts.Setenv("RABBITMQ_PASSWORD", rabbitCanary)
}

// scriptTB is what rabbitbroker.Shared needs of a test, for a script.
type scriptTB struct{ ts *testscript.TestScript }

func (scriptTB) Helper() {}
func (s scriptTB) Skip(args ...any) {
	s.ts.Fatalf("%s (guard the script with [!rabbitmq] skip)", fmt.Sprint(args...))
}
func (s scriptTB) Fatalf(format string, args ...any) { s.ts.Fatalf(format, args...) }
func (s scriptTB) Logf(format string, args ...any)   { s.ts.Logf(format, args...) }

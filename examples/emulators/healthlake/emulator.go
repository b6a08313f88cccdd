// Package healthlake is a local emulator of the Amazon HealthLake API as
// openapi/amazon-healthlake-openapi.yaml describes it: AWS JSON 1.0 calls on
// POST / selected by X-Amz-Target, with AWS Signature Version 4 verified
// against known test credentials.
//
// It exists so the seed workflow can run end to end without an AWS account:
// the README's first command (`arazzo run --emulate healthlake`), the tests
// and `arazzo emulate healthlake` share it. Emulators live under examples/
// because that is what they are for: stand-ins that make the examples run
// with no account and no network. They are not descriptions (openapi/ holds
// those) and not engine code; the brokers and the OAuth server that later
// examples need go beside this one. Data stores and jobs
// live in memory; export jobs move SUBMITTED → IN_PROGRESS → a final status
// over a configurable number of polls (or a duration), or along any path
// of the model's JobStatus values (Config.Statuses).
//
// Like AWS it reads the input from the body alone, verifies SigV4 over
// the headers the client chose to sign (so the Go SDK, botocore and arazzo
// are all accepted), and validates members as the Smithy model does.
package healthlake

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Test credentials the emulator accepts by default. They are public and
// worthless anywhere but here.
const (
	TestAccessKeyID     = "AKIAEMULATORTEST0001"
	TestSecretAccessKey = "emulator/secret/key/that/only/works/locally"
	TestAccountID       = "123456789012"
	// DefaultDatastoreID is the id of the data store every emulator starts
	// with, so sample inputs can name it.
	DefaultDatastoreID = "4f8a2d1c9e7b4a6f8d3c2b1a0e9f8d7c"
)

// Credential is an access key the emulator accepts.
type Credential struct {
	Secret       string
	SessionToken string // required on the request when set
}

// Config shapes the emulator's behaviour.
type Config struct {
	Region string // default us-east-1
	// Credentials by access key id; default the Test* key.
	Credentials map[string]Credential
	// VerifySignature checks SigV4 on every request. On by default via New;
	// benchmarks that measure the engine alone may turn it off.
	VerifySignature bool
	// PollsToComplete is how many DescribeFHIRExportJob calls a job takes
	// to reach its final status (default 3). Ignored when JobDuration > 0.
	PollsToComplete int
	// JobDuration, when set, makes jobs finish after this much time instead.
	JobDuration time.Duration
	// FinalStatus is where jobs end: COMPLETED (default), FAILED or
	// COMPLETED_WITH_ERRORS.
	FinalStatus string
	// Statuses, when set, is the whole path a job takes, one status per
	// DescribeFHIRExportJob call, staying at the last: any of the model's
	// JobStatus values (QUEUED, CANCEL_SUBMITTED, CANCEL_IN_PROGRESS,
	// CANCEL_COMPLETED, CANCEL_FAILED too). It overrides PollsToComplete,
	// JobDuration and FinalStatus.
	Statuses []string
	// ThrottleLimit, when set, answers ThrottlingException (429) to any
	// request beyond this many per ThrottleWindow (default one second).
	ThrottleLimit  int
	ThrottleWindow time.Duration
	// MaxSkew is how far a request's X-Amz-Date may be from now (default 5m).
	MaxSkew time.Duration
	Now     func() time.Time
}

// Server is the emulator; it is an http.Handler.
type Server struct {
	cfg Config

	mu           sync.Mutex
	datastores   map[string]*datastore
	order        []string
	exportJobs   map[string]*job
	importJobs   map[string]*job
	clientTokens map[string]string // ClientToken → job id (idempotency)
	defaultDS    string
	windowStart  time.Time
	windowCount  int
}

type datastore struct {
	ID, Name, Status string
	CreatedAt        time.Time
	Tags             map[string]string
}

type job struct {
	id, datastoreID, name, roleArn string
	outputConfig, inputConfig      any
	submitted                      time.Time
	polls                          int
	final                          string
	export                         bool
}

// New returns an emulator with one ACTIVE data store, whose id
// DatastoreID returns. Signature verification is on.
func New(cfg Config) *Server {
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Credentials == nil {
		cfg.Credentials = map[string]Credential{TestAccessKeyID: {Secret: TestSecretAccessKey}}
	}
	if cfg.PollsToComplete <= 0 {
		cfg.PollsToComplete = 3
	}
	if cfg.FinalStatus == "" {
		cfg.FinalStatus = "COMPLETED"
	}

	if cfg.ThrottleWindow <= 0 {
		cfg.ThrottleWindow = time.Second
	}
	if cfg.MaxSkew <= 0 {
		cfg.MaxSkew = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, datastores: map[string]*datastore{}, exportJobs: map[string]*job{},
		importJobs: map[string]*job{}, clientTokens: map[string]string{}}
	s.defaultDS = DefaultDatastoreID
	s.datastores[s.defaultDS] = &datastore{ID: s.defaultDS, Name: "emulated-datastore", Status: "ACTIVE", CreatedAt: cfg.Now()}
	s.order = append(s.order, s.defaultDS)
	return s
}

// Validate reports a job status the model does not have.
func (c Config) Validate() error {
	for _, st := range append([]string{c.FinalStatus}, c.Statuses...) {
		if st != "" && !slices.Contains(JobStatuses, st) {
			return fmt.Errorf("job status %q is not one of the model's: %s", st, strings.Join(JobStatuses, ", "))
		}
	}
	return nil
}

// NewVerifying is New with signature verification on, the usual setting.
func NewVerifying(cfg Config) *Server {
	cfg.VerifySignature = true
	return New(cfg)
}

// DatastoreID is the id of the data store that exists from the start.
func (s *Server) DatastoreID() string { return s.defaultDS }

// Region is the region the emulator signs for.
func (s *Server) Region() string { return s.cfg.Region }

func (s *Server) addDatastore(name, status string) string {
	id := newID()
	s.datastores[id] = &datastore{ID: id, Name: name, Status: status, CreatedAt: s.cfg.Now()}
	s.order = append(s.order, id)
	return id
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// apiError is an AWS JSON protocol error.
type apiError struct {
	status int
	typ    string
	msg    string
}

func errorf(status int, typ, format string, args ...any) *apiError {
	return &apiError{status: status, typ: typ, msg: fmt.Sprintf(format, args...)}
}

func validation(format string, args ...any) *apiError {
	return errorf(400, "ValidationException", format, args...)
}

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-ErrorType", e.typ)
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.healthlake#" + e.typ, "message": e.msg})
}

func writeOK(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(v)
}

const maxBody = 1 << 20

// ServeHTTP dispatches a HealthLake call.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Amzn-RequestId", newID())
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		writeError(w, errorf(404, "UnknownOperationException", "HealthLake operations are POST / with an X-Amz-Target header"))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		writeError(w, validation("the request body cannot be read or is too large"))
		return
	}
	if s.cfg.VerifySignature {
		if e := s.verify(r, body); e != nil {
			writeError(w, e)
			return
		}
	}
	if e := s.throttle(); e != nil {
		writeError(w, e)
		return
	}
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "HealthLake.")
	handler := handlers[op]
	if !ok || handler == nil {
		writeError(w, errorf(400, "UnknownOperationException", "unknown operation %q", target))
		return
	}
	var in map[string]any
	if len(bytes.TrimSpace(body)) == 0 {
		in = map[string]any{}
	} else {
		d := json.NewDecoder(bytes.NewReader(body))
		d.UseNumber()
		if err := d.Decode(&in); err != nil {
			writeError(w, errorf(400, "SerializationException", "the request body is not a JSON object: %v", err))
			return
		}
	}
	// Like AWS, the emulator reads the input from the body alone: a member
	// sent in the query string is ignored.
	s.mu.Lock()
	out, e := handler(s, in)
	s.mu.Unlock()
	if e != nil {
		writeError(w, e)
		return
	}
	writeOK(w, out)
}

// ResetThrottle starts a new throttling window now.
func (s *Server) ResetThrottle() {
	s.mu.Lock()
	s.windowStart, s.windowCount = s.cfg.Now(), 0
	s.mu.Unlock()
}

func (s *Server) throttle() *apiError {
	if s.cfg.ThrottleLimit <= 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	if now.Sub(s.windowStart) >= s.cfg.ThrottleWindow {
		s.windowStart, s.windowCount = now, 0
	}
	s.windowCount++
	if s.windowCount > s.cfg.ThrottleLimit {
		return errorf(429, "ThrottlingException", "Rate exceeded")
	}
	return nil
}

var handlers = map[string]func(*Server, map[string]any) (any, *apiError){
	"CreateFHIRDatastore":   (*Server).createDatastore,
	"DescribeFHIRDatastore": (*Server).describeDatastore,
	"ListFHIRDatastores":    (*Server).listDatastores,
	"DeleteFHIRDatastore":   (*Server).deleteDatastore,
	"StartFHIRExportJob":    func(s *Server, in map[string]any) (any, *apiError) { return s.startJob(in, true) },
	"DescribeFHIRExportJob": func(s *Server, in map[string]any) (any, *apiError) { return s.describeJob(in, true) },
	"ListFHIRExportJobs":    func(s *Server, in map[string]any) (any, *apiError) { return s.listJobs(in, true) },
	"StartFHIRImportJob":    func(s *Server, in map[string]any) (any, *apiError) { return s.startJob(in, false) },
	"DescribeFHIRImportJob": func(s *Server, in map[string]any) (any, *apiError) { return s.describeJob(in, false) },
	"ListFHIRImportJobs":    func(s *Server, in map[string]any) (any, *apiError) { return s.listJobs(in, false) },
	"TagResource":           (*Server).tagResource,
	"UntagResource":         (*Server).untagResource,
	"ListTagsForResource":   (*Server).listTags,
}

// tagged finds the data store a ResourceARN names.
func (s *Server) tagged(in map[string]any) (*datastore, *apiError) {
	arn, e := str(in, "ResourceARN", true, 1, 1011, resourceArnRE)
	if e != nil {
		return nil, e
	}
	for _, ds := range s.datastores {
		if ds.Status != "DELETED" && s.dsProps(ds)["DatastoreArn"] == arn {
			return ds, nil
		}
	}
	return nil, errorf(404, "ResourceNotFoundException", "Resource %s does not exist", arn)
}

func (s *Server) tagResource(in map[string]any) (any, *apiError) {
	ds, e := s.tagged(in)
	if e != nil {
		return nil, e
	}
	tags, _ := in["Tags"].([]any)
	if tags == nil {
		return nil, validation("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
	}
	if ds.Tags == nil {
		ds.Tags = map[string]string{}
	}
	for _, t := range tags {
		tm, _ := t.(map[string]any)
		k, e := str(tm, "Key", true, 1, 128, tagRE)
		if e != nil {
			return nil, e
		}
		v, e := str(tm, "Value", true, 0, 256, tagRE)
		if e != nil {
			return nil, e
		}
		ds.Tags[k] = v
	}
	return map[string]any{}, nil
}

func (s *Server) untagResource(in map[string]any) (any, *apiError) {
	ds, e := s.tagged(in)
	if e != nil {
		return nil, e
	}
	keys, _ := in["TagKeys"].([]any)
	if keys == nil {
		return nil, validation("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")
	}
	for _, k := range keys {
		delete(ds.Tags, fmt.Sprint(k))
	}
	return map[string]any{}, nil
}

func (s *Server) listTags(in map[string]any) (any, *apiError) {
	ds, e := s.tagged(in)
	if e != nil {
		return nil, e
	}
	tags := []any{}
	keys := make([]string, 0, len(ds.Tags))
	for k := range ds.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		tags = append(tags, map[string]any{"Key": k, "Value": ds.Tags[k]})
	}
	return map[string]any{"Tags": tags}, nil
}

// The patterns compile on first use: the emulator is linked into the CLI,
// whose every start would otherwise pay for them (half a millisecond and
// 200 KB, mostly the Unicode classes of idRE) with no emulator in sight.
var (
	idRE    = lazyRE(`^([\p{L}\p{Z}\p{N}_.:/=+\-%@]*)$`)
	s3URIRE = lazyRE(`^s3://[a-z0-9][\.\-a-z0-9]{1,61}[a-z0-9](/.*)?$`)
	// The patterns and lengths are the HealthLake Smithy model's
	// (aws/api-models-aws, healthlake-2017-07-01.json).
	roleArnRE     = lazyRE(`^arn:aws(-[^:]+)?:iam::[0-9]{12}:role/.+$`)
	resourceArnRE = lazyRE(`^arn:aws((-us-gov)|(-iso)|(-iso-b)|(-cn))?:healthlake:[a-z0-9-]+:\d{12}:datastore\/fhir\/.{32}$`)
	tagRE         = lazyRE(`^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`)
	clientTokenRE = lazyRE(`^[a-zA-Z0-9-]+$`)
	kmsKeyRE      = lazyRE(`^(arn:aws((-us-gov)|(-iso)|(-iso-b)|(-cn))?:kms:)?([a-z]{2}-[a-z]+(-[a-z]+)?-\d:)?(\d{12}:)?(((key/)?[a-zA-Z0-9-_]+)|(alias/[a-zA-Z0-9:/_-]+))$`)
)

func lazyRE(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}

// str reads a string member and checks it the way AWS does.
func str(in map[string]any, name string, required bool, minLen, maxLen int, pattern func() *regexp.Regexp) (string, *apiError) {
	v, ok := in[name]
	if !ok || v == nil {
		if required {
			return "", validation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", lowerFirst(name))
		}
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", errorf(400, "SerializationException", "%s must be a string", name)
	}
	n := len([]rune(s))
	if n < minLen || (maxLen > 0 && n > maxLen) {
		return "", validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length between %d and %d", s, lowerFirst(name), minLen, maxLen)
	}
	if pattern != nil && !pattern().MatchString(s) {
		return "", validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", s, lowerFirst(name), pattern().String())
	}
	return s, nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func (s *Server) datastore(in map[string]any) (*datastore, *apiError) {
	id, e := str(in, "DatastoreId", true, 1, 32, idRE)
	if e != nil {
		return nil, e
	}
	ds := s.datastores[id]
	if ds == nil || ds.Status == "DELETED" {
		return nil, errorf(404, "ResourceNotFoundException", "Datastore %s does not exist", id)
	}
	return ds, nil
}

func (s *Server) dsProps(ds *datastore) map[string]any {
	return map[string]any{
		"DatastoreId":          ds.ID,
		"DatastoreArn":         fmt.Sprintf("arn:aws:healthlake:%s:%s:datastore/fhir/%s", s.cfg.Region, TestAccountID, ds.ID),
		"DatastoreName":        ds.Name,
		"DatastoreStatus":      ds.Status,
		"CreatedAt":            epoch(ds.CreatedAt),
		"DatastoreTypeVersion": "R4",
		"DatastoreEndpoint":    fmt.Sprintf("https://healthlake.%s.amazonaws.com/datastore/%s/r4/", s.cfg.Region, ds.ID),
	}
}

func epoch(t time.Time) json.Number {
	return json.Number(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64))
}

func (s *Server) createDatastore(in map[string]any) (any, *apiError) {
	if v, _ := in["DatastoreTypeVersion"].(string); v != "R4" {
		return nil, validation("1 validation error detected: Value '%v' at 'datastoreTypeVersion' failed to satisfy constraint: Member must satisfy enum value set: [R4]", in["DatastoreTypeVersion"])
	}
	name, e := str(in, "DatastoreName", false, 1, 256, nil)
	if e != nil {
		return nil, e
	}
	id := s.addDatastore(name, "ACTIVE")
	p := s.dsProps(s.datastores[id])
	return map[string]any{"DatastoreId": id, "DatastoreArn": p["DatastoreArn"], "DatastoreStatus": "CREATING", "DatastoreEndpoint": p["DatastoreEndpoint"]}, nil
}

func (s *Server) describeDatastore(in map[string]any) (any, *apiError) {
	ds, e := s.datastore(in)
	if e != nil {
		return nil, e
	}
	return map[string]any{"DatastoreProperties": s.dsProps(ds)}, nil
}

func (s *Server) deleteDatastore(in map[string]any) (any, *apiError) {
	ds, e := s.datastore(in)
	if e != nil {
		return nil, e
	}
	for _, j := range s.exportJobs {
		if j.datastoreID == ds.ID && !isFinal(s.status(j)) {
			return nil, errorf(409, "ConflictException", "Datastore %s has a running job", ds.ID)
		}
	}
	ds.Status = "DELETED"
	p := s.dsProps(ds)
	return map[string]any{"DatastoreId": ds.ID, "DatastoreArn": p["DatastoreArn"], "DatastoreStatus": "DELETING", "DatastoreEndpoint": p["DatastoreEndpoint"]}, nil
}

func (s *Server) listDatastores(in map[string]any) (any, *apiError) {
	f, _ := in["Filter"].(map[string]any)
	if f == nil {
		f = map[string]any{}
	}
	name, e := str(f, "DatastoreName", false, 1, 256, idRE)
	if e != nil {
		return nil, e
	}
	status, e := enum(f, "DatastoreStatus", []string{"CREATING", "ACTIVE", "DELETING", "DELETED", "CREATE_FAILED"})
	if e != nil {
		return nil, e
	}
	after, e := timestamp(f, "CreatedAfter")
	if e != nil {
		return nil, e
	}
	before, e := timestamp(f, "CreatedBefore")
	if e != nil {
		return nil, e
	}
	var all []any
	for _, id := range s.order {
		ds := s.datastores[id]
		if ds.Status == "DELETED" || (name != "" && ds.Name != name) || (status != "" && ds.Status != status) ||
			(!after.IsZero() && !ds.CreatedAt.After(after)) || (!before.IsZero() && !ds.CreatedAt.Before(before)) {
			continue
		}
		all = append(all, s.dsProps(ds))
	}
	page, next, e := paginate(in, all)
	if e != nil {
		return nil, e
	}
	out := map[string]any{"DatastorePropertiesList": page}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

func (s *Server) startJob(in map[string]any, export bool) (any, *apiError) {
	name, e := str(in, "JobName", false, 1, 64, idRE)
	if e != nil {
		return nil, e
	}
	ds, e := s.datastore(in)
	if e != nil {
		return nil, e
	}
	role, e := str(in, "DataAccessRoleArn", true, 20, 2048, roleArnRE)
	if e != nil {
		return nil, e
	}
	// The model marks ClientToken an idempotency token: optional on the
	// wire, filled in by the SDKs when the caller gives none.
	token, e := str(in, "ClientToken", false, 1, 64, clientTokenRE)
	if e != nil {
		return nil, e
	}
	if token == "" {
		token = newID()
	}
	j := &job{datastoreID: ds.ID, name: name, roleArn: role, submitted: s.cfg.Now(), final: s.cfg.FinalStatus, export: export}
	if export {
		if e := checkOutputConfig(in["OutputDataConfig"], "outputDataConfig"); e != nil {
			return nil, e
		}
		j.outputConfig = in["OutputDataConfig"]
	} else {
		ic, _ := in["InputDataConfig"].(map[string]any)
		if ic == nil {
			return nil, validation("1 validation error detected: Value null at 'inputDataConfig' failed to satisfy constraint: Member must not be null")
		}
		if _, e := str(ic, "S3Uri", true, 0, 1024, s3URIRE); e != nil {
			return nil, e
		}
		if e := checkOutputConfig(in["JobOutputDataConfig"], "jobOutputDataConfig"); e != nil {
			return nil, e
		}
		j.inputConfig, j.outputConfig = ic, in["JobOutputDataConfig"]
	}
	key := fmt.Sprintf("%v/%s/%s", export, ds.ID, token)
	jobs := s.jobs(export)
	if id, seen := s.clientTokens[key]; seen {
		// Idempotent: the same ClientToken returns the job it started.
		prev := jobs[id]
		return map[string]any{"JobId": id, "JobStatus": s.status(prev), "DatastoreId": ds.ID}, nil
	}
	j.id = newID()
	jobs[j.id] = j
	s.clientTokens[key] = j.id
	return map[string]any{"JobId": j.id, "JobStatus": "SUBMITTED", "DatastoreId": ds.ID}, nil
}

func checkOutputConfig(v any, field string) *apiError {
	oc, _ := v.(map[string]any)
	if oc == nil {
		return validation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
	}
	s3, _ := oc["S3Configuration"].(map[string]any)
	if s3 == nil {
		return validation("1 validation error detected: Value null at '%s.s3Configuration' failed to satisfy constraint: Member must not be null", field)
	}
	if _, e := str(s3, "S3Uri", true, 0, 1024, s3URIRE); e != nil {
		return e
	}
	if _, e := str(s3, "KmsKeyId", true, 1, 400, kmsKeyRE); e != nil {
		return e
	}
	return nil
}

func (s *Server) jobs(export bool) map[string]*job {
	if export {
		return s.exportJobs
	}
	return s.importJobs
}

// status is where a job is now: by polls, or by time when JobDuration is set.
func (s *Server) status(j *job) string {
	if p := s.cfg.Statuses; len(p) > 0 {
		return p[min(max(j.polls-1, 0), len(p)-1)]
	}
	if d := s.cfg.JobDuration; d > 0 {
		el := s.cfg.Now().Sub(j.submitted)
		switch {
		case el >= d:
			return j.final
		case el >= d/3:
			return "IN_PROGRESS"
		}
		return "SUBMITTED"
	}
	n := s.cfg.PollsToComplete
	switch {
	case j.polls >= n:
		return j.final
	case j.polls >= (n+1)/2:
		return "IN_PROGRESS"
	}
	return "SUBMITTED"
}

func isFinal(st string) bool {
	switch st {
	case "COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED", "CANCEL_COMPLETED", "CANCEL_FAILED":
		return true
	}
	return false
}

func (s *Server) jobProps(j *job) map[string]any {
	st := s.status(j)
	p := map[string]any{"JobId": j.id, "JobStatus": st, "SubmitTime": epoch(j.submitted), "DatastoreId": j.datastoreID, "DataAccessRoleArn": j.roleArn}
	if j.name != "" {
		p["JobName"] = j.name
	}
	if isFinal(st) {
		p["EndTime"] = epoch(s.cfg.Now())
	}
	switch st {
	case "FAILED":
		p["Message"] = "The export job failed: access to the output S3 bucket was denied"
	case "COMPLETED_WITH_ERRORS":
		p["Message"] = "Some resources could not be exported"
	}
	if j.export {
		p["OutputDataConfig"] = j.outputConfig
	} else {
		p["InputDataConfig"], p["JobOutputDataConfig"] = j.inputConfig, j.outputConfig
	}
	return p
}

func (s *Server) describeJob(in map[string]any, export bool) (any, *apiError) {
	ds, e := s.datastore(in)
	if e != nil {
		return nil, e
	}
	id, e := str(in, "JobId", true, 1, 32, idRE)
	if e != nil {
		return nil, e
	}
	j := s.jobs(export)[id]
	if j == nil || j.datastoreID != ds.ID {
		return nil, errorf(404, "ResourceNotFoundException", "Job %s does not exist in datastore %s", id, ds.ID)
	}
	j.polls++
	key := "ImportJobProperties"
	if export {
		key = "ExportJobProperties"
	}
	return map[string]any{key: s.jobProps(j)}, nil
}

func (s *Server) listJobs(in map[string]any, export bool) (any, *apiError) {
	ds, e := s.datastore(in)
	if e != nil {
		return nil, e
	}
	wantStatus, e := enum(in, "JobStatus", JobStatuses)
	if e != nil {
		return nil, e
	}
	wantName, e := str(in, "JobName", false, 1, 64, idRE)
	if e != nil {
		return nil, e
	}
	after, e := timestamp(in, "SubmittedAfter")
	if e != nil {
		return nil, e
	}
	before, e := timestamp(in, "SubmittedBefore")
	if e != nil {
		return nil, e
	}
	var js []*job
	for _, j := range s.jobs(export) {
		if j.datastoreID == ds.ID && (wantStatus == "" || s.status(j) == wantStatus) && (wantName == "" || j.name == wantName) &&
			(after.IsZero() || j.submitted.After(after)) && (before.IsZero() || j.submitted.Before(before)) {
			js = append(js, j)
		}
	}
	sort.Slice(js, func(a, b int) bool {
		if !js[a].submitted.Equal(js[b].submitted) {
			return js[a].submitted.After(js[b].submitted)
		}
		return js[a].id < js[b].id
	})
	all := make([]any, len(js))
	for i, j := range js {
		all[i] = s.jobProps(j)
	}
	page, next, e := paginate(in, all)
	if e != nil {
		return nil, e
	}
	key := "ImportJobPropertiesList"
	if export {
		key = "ExportJobPropertiesList"
	}
	out := map[string]any{key: page}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

// JobStatuses are the model's JobStatus values.
var JobStatuses = []string{"SUBMITTED", "QUEUED", "IN_PROGRESS", "COMPLETED_WITH_ERRORS", "COMPLETED", "FAILED",
	"CANCEL_SUBMITTED", "CANCEL_IN_PROGRESS", "CANCEL_COMPLETED", "CANCEL_FAILED"}

// enum reads an optional string member that must be one of values.
func enum(in map[string]any, name string, values []string) (string, *apiError) {
	v, e := str(in, name, false, 0, 0, nil)
	if e != nil || v == "" {
		return v, e
	}
	if !slices.Contains(values, v) {
		return "", validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]", v, lowerFirst(name), strings.Join(values, ", "))
	}
	return v, nil
}

// timestamp reads an optional epoch-seconds member (AWS JSON's timestamp
// form; fractions allowed).
func timestamp(in map[string]any, name string) (time.Time, *apiError) {
	v, ok := in[name]
	if !ok || v == nil {
		return time.Time{}, nil
	}
	n, isNum := v.(json.Number)
	f, err := n.Float64()
	if !isNum || err != nil {
		return time.Time{}, errorf(400, "SerializationException", "%s must be a timestamp in epoch seconds", name)
	}
	return time.UnixMilli(int64(f * 1000)), nil
}

// paginate applies MaxResults (1–500, default 500) and an opaque NextToken.
func paginate(in map[string]any, all []any) ([]any, string, *apiError) {
	max := 500
	if v, ok := in["MaxResults"]; ok && v != nil {
		n, err := strconv.Atoi(strings.TrimSpace(fmt.Sprint(v)))
		if err != nil || n < 1 || n > 500 {
			return nil, "", validation("1 validation error detected: Value '%v' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 500", v)
		}
		max = n
	}
	start := 0
	if t, _ := in["NextToken"].(string); t != "" {
		raw, err := base64.RawURLEncoding.DecodeString(t)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(raw), "offset:"))
		if err != nil || err2 != nil || n < 0 || n > len(all) {
			return nil, "", validation("Invalid NextToken")
		}
		start = n
	}
	end := start + max
	if end >= len(all) {
		return all[start:], "", nil
	}
	return all[start:end], base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(end))), nil
}

// Package source loads the documents an Arazzo description refers to
// (OpenAPI 3.0/3.1 descriptions through kin-openapi, AsyncAPI 2.6/3.0
// descriptions with positions, and nested Arazzo documents) and indexes OpenAPI operations by operationId and by path and
// method.
//
// Reading is policy-checked in one place (Loader.Read):
//   - local files relative to the referring document, anywhere the user can
//     read, unless Root confines them to one directory tree;
//   - http(s) URLs only when AllowRemote is set, with a timeout and a size
//     cap, and never to loopback, private or link-local addresses unless
//     AllowPrivate is set too (checked on the address actually dialled, so
//     DNS cannot smuggle one in).
package source

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"

	"github.com/arazzo-go/arazzo/engine/document"
)

// Defaults for reading sources.
const (
	DefaultTimeout  = 30 * time.Second
	DefaultMaxBytes = 64 << 20
)

// Loader reads and caches source documents. It is safe for concurrent use;
// a document loaded once is shared by every description that names it.
type Loader struct {
	// AllowRemote permits http(s) sources. Off by default: a document from
	// an untrusted author should not make the tool fetch arbitrary URLs.
	AllowRemote bool
	// AllowPrivate lets remote sources live on loopback, private and
	// link-local addresses (a local mock server, say).
	AllowPrivate bool
	// Root, when set, is the directory local sources must be inside.
	Root       string
	HTTPClient *http.Client
	Timeout    time.Duration
	MaxBytes   int64

	mu    sync.Mutex
	cache map[string]*cached
	// ident maps an Arazzo 1.1 document's identity (its resolved $self)
	// to where it was read (see Identify).
	ident map[string]string
}

// Identify records that the Arazzo document read from location has the
// identity self (its $self, resolved). Arazzo 1.1 references a document
// by its $self URI rather than by where it happens to be, so a later
// reference to that URI is read from location, not fetched.
func (l *Loader) Identify(self, location string) {
	if self == "" || self == location {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ident == nil {
		l.ident = map[string]string{}
	}
	if _, taken := l.ident[self]; !taken {
		l.ident[self] = location
	}
}

// Locate returns where the document whose identity is uri was read, when
// one with that $self has been loaded or identified.
func (l *Loader) Locate(uri string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	loc, ok := l.ident[uri]
	return loc, ok
}

type cached struct {
	once sync.Once
	src  *Source
	err  error
}

// Errors of the loader's policy, for errors.Is: a command line can say
// which of its flags lifts them.
var (
	ErrRemoteOff      = errors.New("remote sources are off")
	ErrPrivateAddress = errors.New("private addresses are off for remote sources")
)

// Type is the kind of a source description, as sourceDescriptions[].type
// spells it.
type Type string

// The source types this loader reads.
const (
	OpenAPI Type = "openapi"
	Arazzo  Type = "arazzo"
)

func (t Type) String() string { return string(t) }

// Source is one loaded source description.
type Source struct {
	Location string // absolute file path or URL
	Type     Type
	OpenAPI  *openapi3.T
	Arazzo   *document.Document
	Async    *AsyncDoc // an AsyncAPI 2.6 or 3.0 description
	// ArazzoDiags are the nested document's parse diagnostics.
	ArazzoDiags []error

	byID   map[string]*Operation
	byPath map[string]*Operation
	ops    []*Operation
	// unusable are operations left out because their definitions are
	// malformed (unusable.go).
	unusable []Unusable
}

// Operation is an OpenAPI operation with what a request needs to find it.
type Operation struct {
	Source   *Source
	ID       string
	Method   string // upper case
	Path     string // the OpenAPI path key, e.g. /pets/{petId}
	Op       *openapi3.Operation
	PathItem *openapi3.PathItem
}

// Servers returns the servers that apply: the operation's, else the path
// item's, else the document's.
func (o *Operation) Servers() openapi3.Servers {
	if o.Op.Servers != nil && len(*o.Op.Servers) > 0 {
		return *o.Op.Servers
	}
	if len(o.PathItem.Servers) > 0 {
		return o.PathItem.Servers
	}
	return o.Source.OpenAPI.Servers
}

// Parameter finds the OpenAPI parameter declared with name and location
// (header names case-insensitive), at operation or path-item level.
func (o *Operation) Parameter(name, in string) *openapi3.Parameter {
	for _, list := range []openapi3.Parameters{o.Op.Parameters, o.PathItem.Parameters} {
		for _, ref := range list {
			p := ref.Value
			if p == nil || p.In != in {
				continue
			}
			if p.Name == name || (in == "header" && strings.EqualFold(p.Name, name)) {
				return p
			}
		}
	}
	return nil
}

// ByID returns the operation with the given operationId.
func (s *Source) ByID(id string) *Operation { return s.byID[id] }

// ByPath returns the operation at an OpenAPI path key and method.
func (s *Source) ByPath(path, method string) *Operation {
	return s.byPath[strings.ToUpper(method)+" "+path]
}

// Operations lists every operation, in path then method order.
func (s *Source) Operations() []*Operation { return s.ops }

func (l *Loader) timeout() time.Duration {
	if l.Timeout > 0 {
		return l.Timeout
	}
	return DefaultTimeout
}

func (l *Loader) maxBytes() int64 {
	if l.MaxBytes > 0 {
		return l.MaxBytes
	}
	return DefaultMaxBytes
}

// Resolve turns a reference into an absolute location relative to base
// (the referring document's location).
func Resolve(base, ref string) (string, error) {
	u, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("invalid URL %q: %v", ref, err)
	}
	if u.Scheme == "http" || u.Scheme == "https" {
		return u.String(), nil
	}
	if u.Scheme == "file" {
		return filepath.Clean(u.Path), nil
	}
	if u.Scheme != "" {
		return "", fmt.Errorf("unsupported URL scheme %q in %q", u.Scheme, ref)
	}
	if b, err := url.Parse(base); err == nil && (b.Scheme == "http" || b.Scheme == "https") {
		return b.ResolveReference(u).String(), nil
	}
	p := ref
	if unescaped, err := url.PathUnescape(u.Path); err == nil {
		p = unescaped
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p), nil
	}
	return filepath.Clean(filepath.Join(filepath.Dir(base), p)), nil
}

// Read reads a location within the loader's policy.
func (l *Loader) Read(ctx context.Context, location string) ([]byte, error) {
	if strings.HasPrefix(location, "http://") || strings.HasPrefix(location, "https://") {
		if !l.AllowRemote {
			return nil, fmt.Errorf("remote source %s is not loaded: %w", location, ErrRemoteOff)
		}
		return l.fetch(ctx, location)
	}
	if l.Root != "" {
		if err := inside(l.Root, location); err != nil {
			return nil, err
		}
	}
	return l.ReadFile(location)
}

// ReadFile reads a local file within the loader's size cap. Only regular
// files are read: a directory is an error, and a device or a named pipe
// (/dev/zero, a FIFO nobody writes to) would never end or never start.
func (l *Loader) ReadFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		what := "not a regular file"
		if fi.IsDir() {
			what = "a directory"
		}
		return nil, fmt.Errorf("%s is %s: give the path of a YAML or JSON document", path, what)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readCapped(f, l.maxBytes(), path)
}

func (l *Loader) fetch(ctx context.Context, location string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, l.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, location, nil)
	if err != nil {
		return nil, err
	}
	client := l.HTTPClient
	if client == nil {
		client = l.remoteClient()
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("GET %s: %s", location, resp.Status)
	}
	return readCapped(resp.Body, l.maxBytes(), location)
}

// remoteClient dials only public addresses unless AllowPrivate is set,
// and follows no redirects (a redirect could lead anywhere).
func (l *Loader) remoteClient() *http.Client {
	dialer := &net.Dialer{Timeout: l.timeout()}
	if !l.AllowPrivate {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip := net.ParseIP(host)
			if ip == nil || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() {
				return fmt.Errorf("%s is a loopback, private or link-local address: %w", host, ErrPrivateAddress)
			}
			return nil
		}
	}
	return &http.Client{
		Transport:     &http.Transport{DialContext: dialer.DialContext, Proxy: http.ProxyFromEnvironment, TLSHandshakeTimeout: l.timeout()},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// inside checks that path lies in the directory tree root.
func inside(root, path string) error {
	r, err1 := filepath.Abs(root)
	p, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("cannot resolve %s against the source root %s", path, root)
	}
	if rr, err := filepath.EvalSymlinks(r); err == nil {
		r = rr
	}
	if pp, err := filepath.EvalSymlinks(p); err == nil {
		p = pp
	}
	rel, err := filepath.Rel(r, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("%s is outside the source root %s", path, root)
	}
	return nil
}

func readCapped(r io.Reader, max int64, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than the %d-byte limit", what, max)
	}
	return b, nil
}

// Load reads, parses and indexes the source at location. typ is the
// declared type ("openapi", "arazzo" or "" to sniff). Results are cached
// by location.
func (l *Loader) Load(ctx context.Context, location string, typ Type) (*Source, error) {
	if loc, ok := l.Locate(location); ok {
		location = loc
	}
	l.mu.Lock()
	if l.cache == nil {
		l.cache = map[string]*cached{}
	}
	c, ok := l.cache[location]
	if !ok {
		c = &cached{}
		l.cache[location] = c
	}
	l.mu.Unlock()
	c.once.Do(func() { c.src, c.err = l.load(ctx, location) })
	if c.err != nil {
		return nil, c.err
	}
	if typ != "" && typ != c.src.Type {
		return nil, fmt.Errorf("%s is declared type %q but is an %s document", location, typ, c.src.Type)
	}
	return c.src, nil
}

func (l *Loader) load(ctx context.Context, location string) (*Source, error) {
	data, err := l.Read(ctx, location)
	if err != nil {
		return nil, err
	}
	typ, err := sniff(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", location, err)
	}
	src := &Source{Location: location, Type: Type(typ)}
	if src.Type == Arazzo {
		doc, diags := document.Parse(location, data)
		if doc == nil {
			return nil, fmt.Errorf("%s: %s", location, diags.Error())
		}
		src.Arazzo = doc
		if doc.Version.AtLeast11() && doc.Self != "" {
			if self, err := Resolve(location, doc.Self); err == nil {
				l.Identify(self, location)
			}
		}
		return src, nil
	}
	if src.Type == AsyncAPI {
		var err error
		if src.Async, err = loadAsyncAPI(location, data); err != nil {
			return nil, fmt.Errorf("not a usable AsyncAPI description: %v", err) // err has file:line:col
		}
		return src, nil
	}
	// A fresh loader for each attempt: a loader remembers what it read.
	newLoader := func() *openapi3.Loader {
		ld := openapi3.NewLoader()
		ld.Context = ctx
		ld.IsExternalRefsAllowed = true
		// External $refs inside the description go through the same policy.
		ld.ReadFromURIFunc = func(_ *openapi3.Loader, u *url.URL) ([]byte, error) {
			loc := u.String()
			if u.Scheme == "" || u.Scheme == "file" {
				loc = filepath.Clean(u.Path)
			}
			return l.Read(ctx, loc)
		}
		return ld
	}
	var loc *url.URL
	if strings.HasPrefix(location, "http") {
		loc, _ = url.Parse(location)
	} else {
		loc = &url.URL{Path: location}
	}
	doc, unusable, err := loadSkippingBroken(newLoader, data, loc)
	if err != nil {
		return nil, fmt.Errorf("%s: not a usable OpenAPI description: %v", location, err)
	}
	src.OpenAPI, src.unusable = doc, unusable
	src.index()
	return src, nil
}

// loadOpenAPI guards against panics inside the OpenAPI loader on hostile input.
func loadOpenAPI(ld *openapi3.Loader, data []byte, loc *url.URL) (doc *openapi3.T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cannot load: %v", r)
		}
	}()
	return ld.LoadFromDataWithPath(data, loc)
}

// sniff tells an OpenAPI description from an Arazzo document by its
// top-level key. It looks at the text first (a large description is not
// parsed twice); only when that finds nothing does it parse the YAML.
func sniff(data []byte) (string, error) {
	if t := sniffText(data); t != "" {
		if t == "swagger" {
			return "", errors.New("swagger 2.0 descriptions are not supported: convert it to OpenAPI 3")
		}
		return t, nil
	}
	var top map[string]yaml.Node
	if err := yaml.Unmarshal(data, &top); err != nil {
		return "", errors.New("not a YAML or JSON object")
	}
	for _, k := range []string{"openapi", "arazzo", "asyncapi"} {
		if _, ok := top[k]; ok {
			return k, nil
		}
	}
	if _, ok := top["swagger"]; ok {
		return "", errors.New("swagger 2.0 descriptions are not supported: convert it to OpenAPI 3")
	}
	return "", errors.New("neither an OpenAPI or AsyncAPI description (no openapi or asyncapi field) nor an Arazzo document (no arazzo field)")
}

var topKeyRE = regexp.MustCompile(`(?m)^["']?(openapi|arazzo|asyncapi|swagger)["']?[ \t]*:`)

// sniffText finds a top-level key of a block-style YAML document (at the
// start of a line), or the first key of a JSON object.
func sniffText(data []byte) string {
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(trimmed) > 0 && trimmed[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			return ""
		}
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				return ""
			}
			switch key {
			case "openapi", "arazzo", "asyncapi", "swagger":
				return key.(string)
			}
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return ""
			}
		}
		return ""
	}
	if m := topKeyRE.FindSubmatch(data); m != nil {
		return string(m[1])
	}
	return ""
}

func (s *Source) index() {
	s.byID, s.byPath = map[string]*Operation{}, map[string]*Operation{}
	if s.OpenAPI.Paths == nil {
		return
	}
	keys := s.OpenAPI.Paths.Keys()
	sort.Strings(keys)
	for _, path := range keys {
		item := s.OpenAPI.Paths.Value(path)
		if item == nil {
			continue
		}
		ops := item.Operations()
		methods := make([]string, 0, len(ops))
		for m := range ops {
			methods = append(methods, m)
		}
		sort.Strings(methods)
		for _, m := range methods {
			op := &Operation{Source: s, ID: ops[m].OperationID, Method: strings.ToUpper(m), Path: path, Op: ops[m], PathItem: item}
			s.ops = append(s.ops, op)
			s.byPath[op.Method+" "+path] = op
			if op.ID != "" {
				if _, dup := s.byID[op.ID]; !dup {
					s.byID[op.ID] = op
				}
			}
		}
	}
}

// String names the operation for messages: `POST /pets (addPet)`.
func (o *Operation) String() string {
	if o.ID != "" {
		return fmt.Sprintf("%s %s (%s)", o.Method, o.Path, o.ID)
	}
	return o.Method + " " + o.Path
}

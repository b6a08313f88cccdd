// Package restxml is the AWS restXml wire protocol (S3, CloudFront,
// Route 53) as a protocol.Protocol.
//
// The description's HTTP bindings are the wire's; a body is XML. The
// engine serializes an object payload by the request schema's xml name
// and namespace; Prepare sends it as application/xml with a Content-MD5
// (S3 requires an integrity header on several operations and accepts it
// on all), and, for S3 on an AWS host, addresses a DNS-compatible bucket
// virtual-hosted style (bucket.s3.region.amazonaws.com/key), as the SDKs
// do; on any other host (an emulator, a proxy) the path style of the
// description is kept. Errors are read from <Error><Code> and <Message>,
// at the root or inside <ErrorResponse>.
//
// A source speaks it when info.x-aws-protocol says restXml, or when its
// description is an AWS service's that declares no protocol and whose
// bodies are XML.
package restxml

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/arazzo-go/arazzo/engine/protocol"
	"github.com/arazzo-go/arazzo/engine/protocol/awsdesc"
	"github.com/arazzo-go/arazzo/engine/source"
)

// Detect is the protocol.Detector for restXml sources.
func Detect(src *source.Source) protocol.Protocol {
	switch awsdesc.Declared(src) {
	case "restXml":
		return Protocol{}
	case "":
		if !awsdesc.IsAWS(src) || awsdesc.RPCShape(src) != "" {
			return nil // the query protocols answer in XML too
		}
		for mt := range awsdesc.MediaTypes(src) {
			if mt == "application/xml" || mt == "text/xml" {
				return Protocol{}
			}
		}
	}
	return nil
}

// Protocol is restXml.
type Protocol struct{}

// Name is restXml, as service models spell it.
func (Protocol) Name() string { return "restXml" }

// bucketRE is a bucket name that can be a DNS label of its own.
// Compiled on first use: its repetition makes a large program, and most
// runs sign no S3 request.
var bucketRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`) })

// Prepare sends XML bodies as application/xml with their MD5, and S3
// buckets virtual-hosted on AWS hosts.
func (p Protocol) Prepare(r *protocol.Request) error {
	if r.HasBody {
		if mt, _, _ := strings.Cut(r.ContentType, ";"); strings.Contains(strings.ToLower(mt), "json") {
			r.Notices = append(r.Notices, "the body is sent as the workflow wrote it, though the source's restXml protocol reads XML")
		} else if r.ContentType == "" {
			r.ContentType = "application/xml"
			r.Header.Set("Content-Type", r.ContentType)
		}
		sum := md5.Sum(r.Body)
		r.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
	}
	p.virtualHost(r)
	return nil
}

// virtualHost moves a leading {Bucket} path segment into the host when the
// server is S3 on AWS.
func (Protocol) virtualHost(r *protocol.Request) {
	if r.Operation == nil || !strings.HasPrefix(r.Operation.Path, "/{Bucket}") {
		return
	}
	_, service, _, aws := awsdesc.Host(r.Server)
	if !aws || service != "s3" {
		return
	}
	var bucket string
	for _, prm := range r.Params {
		if prm.In == "path" && prm.Name == "Bucket" {
			bucket, _ = prm.Value.(string)
		}
	}
	if !bucketRE().MatchString(bucket) || strings.HasPrefix(strings.ToLower(r.Server), "http://") {
		return
	}
	u, err := url.Parse(r.Server)
	if err != nil || u.Path != "" && u.Path != "/" {
		return
	}
	if rest, ok := strings.CutPrefix(r.Path, "/"+bucket); ok && (rest == "" || rest[0] == '/' || rest[0] == '?') {
		u.Host = bucket + "." + u.Host
		r.Server = u.String()
		r.Notices = append(r.Notices, "bucket "+bucket+" is addressed virtual-hosted style ("+u.Host+"), as the AWS SDKs address S3")
		if rest == "" || rest[0] == '?' {
			rest = "/" + rest
		}
		r.Path = rest
	}
}

// ErrorSummary reads <Error><Code>…</Code><Message>…</Message></Error>,
// at the root (S3) or in <ErrorResponse> (the other XML services).
func (Protocol) ErrorSummary(h http.Header, body []byte) (string, string) {
	return XMLErrorSummary(body)
}

// XMLErrorSummary is the error reading restXml and the query protocols
// share: the first <Code> and <Message> (ec2 nests them in
// <Response><Errors><Error>).
func XMLErrorSummary(body []byte) (code, msg string) {
	d := xml.NewDecoder(bytes.NewReader(body))
	var path []string
	for {
		tok, err := d.Token()
		if err != nil {
			return code, msg
		}
		switch x := tok.(type) {
		case xml.StartElement:
			path = append(path, x.Name.Local)
		case xml.EndElement:
			if len(path) > 0 {
				path = path[:len(path)-1]
			}
		case xml.CharData:
			if len(path) < 2 || path[len(path)-2] != "Error" {
				continue
			}
			text := strings.TrimSpace(string(x))
			switch path[len(path)-1] {
			case "Code":
				if code == "" {
					code = text
				}
			case "Message":
				if msg == "" {
					msg = text
				}
			}
		}
	}
}

package security

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/arazzo-go/arazzo/engine"
)

type certKey struct{ cert, key, ca string }

type certResult struct {
	cert tls.Certificate
	pool *x509.CertPool // nil: the system's roots
	err  error
}

// cert loads a client certificate and key (and a CA to trust for the
// server, when given) once per Auth.
func (a *Auth) cert(f map[string]string) (*certResult, error) {
	k := certKey{f["cert"], f["key"], f["ca"]}
	if v, ok := a.certs.Load(k); ok {
		r := v.(*certResult)
		return r, r.err
	}
	r := &certResult{}
	r.cert, r.err = tls.LoadX509KeyPair(k.cert, k.key)
	if r.err != nil {
		r.err = fmt.Errorf("client certificate %s with key %s: %v", k.cert, k.key, r.err)
	} else if k.ca != "" {
		pem, err := os.ReadFile(k.ca)
		r.pool = x509.NewCertPool()
		if err != nil {
			r.err = fmt.Errorf("CA file: %v", err)
		} else if !r.pool.AppendCertsFromPEM(pem) {
			r.err = fmt.Errorf("CA file %s holds no PEM certificate", k.ca)
		}
	}
	v, _ := a.certs.LoadOrStore(k, r)
	r = v.(*certResult)
	return r, r.err
}

// tlsCaller is the run's caller that presents n's client certificate:
// a copy of the next caller with a transport of its own (engine.WithTLS),
// so no other source's connections carry the certificate.
func (c *caller) tlsCaller(n need) (engine.Caller, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if tc, ok := c.tls[n.scheme.Name]; ok {
		return tc, nil
	}
	r, err := c.a.cert(n.fields)
	if err != nil {
		return nil, fmt.Errorf("security scheme %s: %w", n.scheme.Describe(), err)
	}
	tc, err := engine.WithTLS(c.next, func(cfg *tls.Config) {
		cfg.Certificates = []tls.Certificate{r.cert}
		if r.pool != nil {
			cfg.RootCAs = r.pool
		}
	})
	if err != nil {
		return nil, fmt.Errorf("security scheme %s: %w (list the security middleware first)", n.scheme.Describe(), err)
	}
	if c.tls == nil {
		c.tls = map[string]engine.Caller{}
	}
	c.tls[n.scheme.Name] = tc
	return tc, nil
}

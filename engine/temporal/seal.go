package temporal

// Secrets and Temporal history. Everything a workflow is given and every
// activity's input and result is recorded in the workflow's history, in the
// clear unless a codec encrypts it. So secret inputs travel encrypted
// (AES-GCM under a key the submitter and the workers share), and inside the
// workflow their values are replaced by placeholders in every request
// handed to an activity; the activity, on the worker, puts the values back
// just before it sends, and replaces them again (and every credential it
// applied) in what it returns.

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// KeyEnv names the environment variable the CLI reads the key from.
const KeyEnv = "ARAZZO_TEMPORAL_KEY"

// Key derives the 32-byte AES key from a passphrase (any length): the
// submitter and the workers must be given the same one.
func Key(passphrase string) []byte {
	if passphrase == "" {
		return nil
	}
	k := sha256.Sum256([]byte("arazzo-temporal-key\x00" + passphrase))
	return k[:]
}

// Seal encrypts the secret inputs for Input.Secrets: name → base64 of
// nonce and ciphertext of the value's JSON.
func Seal(key []byte, secrets map[string]any) (map[string]string, error) {
	if len(secrets) == 0 {
		return nil, nil
	}
	if key == nil {
		names := slices.Sorted(mapsKeys(secrets))
		return nil, fmt.Errorf("the inputs %s are secret and would be recorded in the Temporal history: set %s (the same on the workers) to send them encrypted", strings.Join(names, ", "), KeyEnv)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for name, v := range secrets {
		data, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("secret input %s: %v", name, err)
		}
		nonce := make([]byte, aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return nil, err
		}
		// The name is authenticated too: a value cannot be moved to another input.
		out[name] = base64.StdEncoding.EncodeToString(aead.Seal(nonce, nonce, data, []byte(name)))
	}
	return out, nil
}

// open decrypts what Seal made. It is deterministic, so workflow code may
// call it.
func open(key []byte, sealed map[string]string) (map[string]any, error) {
	if len(sealed) == 0 {
		return nil, nil
	}
	if key == nil {
		return nil, fmt.Errorf("the run has encrypted secret inputs, but this worker has no key: start it with %s set as for the submitter", KeyEnv)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for name, s := range sealed {
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(raw) < aead.NonceSize() {
			return nil, fmt.Errorf("secret input %s: not what Seal makes", name)
		}
		data, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(name))
		if err != nil {
			return nil, fmt.Errorf("secret input %s: cannot decrypt it: this worker's %s differs from the submitter's", name, KeyEnv)
		}
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, fmt.Errorf("secret input %s: %v", name, err)
		}
		out[name] = v
	}
	return out, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// minSecret is the shortest value replaced: shorter ones would match
// everywhere (the engine's masking has the same floor).
const minSecret = 4

// forms are the ways a value appears in a request or response: as is,
// in a URL path or query, inside a JSON string, base64 (Basic
// credentials).
var forms = []func(string) string{
	func(s string) string { return s },
	url.PathEscape,
	func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") },
	url.QueryEscape,
	func(s string) string { j, _ := json.Marshal(s); return string(j[1 : len(j)-1]) },
	func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
}

// sealer swaps secret values and placeholders naming them.
type sealer struct {
	seal, unseal *strings.Replacer
}

func placeholder(name string, form int) string {
	return fmt.Sprintf("\x00arazzo-secret:%s:%d\x00", name, form)
}

// newSealer swaps the values of secrets (by input name) for placeholders,
// and masks (credentials, tokens) for mask, which nothing turns back.
func newSealer(secrets map[string]any, masks []string, mask string) *sealer {
	type pair struct{ from, to string }
	var seal, unseal []pair
	seen := map[string]bool{}
	for _, name := range slices.Sorted(mapsKeys(secrets)) {
		v, ok := secrets[name].(string)
		if !ok {
			v = fmt.Sprint(secrets[name])
		}
		if len(v) < minSecret {
			continue
		}
		for i, form := range forms {
			f := form(v)
			if seen[f] {
				continue
			}
			seen[f] = true
			seal = append(seal, pair{f, placeholder(name, i)})
			unseal = append(unseal, pair{placeholder(name, i), f})
		}
	}
	for _, m := range masks {
		if len(m) < minSecret {
			continue
		}
		for _, form := range forms {
			if f := form(m); !seen[f] {
				seen[f] = true
				seal = append(seal, pair{f, mask})
			}
		}
	}
	// Longest first, so a secret that contains another goes whole.
	slices.SortStableFunc(seal, func(a, b pair) int { return len(b.from) - len(a.from) })
	flat := func(ps []pair) *strings.Replacer {
		var args []string
		for _, p := range ps {
			args = append(args, p.from, p.to)
		}
		return strings.NewReplacer(args...)
	}
	return &sealer{seal: flat(seal), unseal: flat(unseal)}
}

func (s *sealer) sealString(v string) string   { return s.seal.Replace(v) }
func (s *sealer) unsealString(v string) string { return s.unseal.Replace(v) }

func (s *sealer) sealBytes(b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	return []byte(s.seal.Replace(string(b)))
}

func (s *sealer) unsealBytes(b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	return []byte(s.unseal.Replace(string(b)))
}

func (s *sealer) header(h map[string][]string, f func(string) string) map[string][]string {
	out := make(map[string][]string, len(h))
	for k, vs := range h {
		c := make([]string, len(vs))
		for i, v := range vs {
			c[i] = f(v)
		}
		out[k] = c
	}
	return out
}

// value swaps in the string values of a JSON-like value.
func (s *sealer) value(v any, f func(string) string) any {
	switch x := v.(type) {
	case string:
		return f(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = s.value(e, f)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = s.value(e, f)
		}
		return out
	}
	return v
}

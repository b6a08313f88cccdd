package engine

import (
	"fmt"
	"strings"
	"unicode"
)

// Secret inputs are masked (see redactor) wherever the engine reports something: events
// (requests, responses, messages) and errors. An input is secret when its
// schema says `format: password` or `writeOnly: true`, or when its name says
// so: it contains secret, token, password, passwd, credential, or ends in
// key (apiKey, api_key, privateKey; but not keyId).
func secretValues(w *Workflow, inputs map[string]any, extra []string) []string {
	var vals []string
	for name, v := range inputs {
		if w.SecretInput(name) {
			vals = append(vals, fmt.Sprint(v))
		}
	}
	return append(vals, extra...)
}

// classifySecrets decides, once at compile time, which declared inputs are
// secret: by schema (format: password, writeOnly) or by name.
func classifySecrets(w *Workflow) map[string]bool {
	out := map[string]bool{}
	if w.Inputs == nil {
		return out
	}
	props, _ := w.Inputs.Properties()
	for name, p := range props {
		pm, _ := p.(map[string]any)
		out[name] = secretName(name) || pm["format"] == "password" || pm["writeOnly"] == true
	}
	return out
}

// SecretInput reports whether the workflow's input name is secret, so is
// masked in every output: by its schema (format: password, writeOnly) or
// by its name. Tools that show inputs (describe, an MCP tool's schema) use
// it to mark them.
func (w *Workflow) SecretInput(name string) bool {
	if secret, known := w.secretInputs[name]; known {
		return secret
	}
	return secretName(name)
}

func secretName(name string) bool {
	words := splitWords(name)
	joined := strings.Join(words, "")
	for _, w := range []string{"secret", "token", "password", "passwd", "credential"} {
		if strings.Contains(joined, w) {
			return true
		}
	}
	return len(words) > 0 && (words[len(words)-1] == "key" || strings.HasSuffix(words[len(words)-1], "apikey"))
}

// splitWords breaks camelCase, snake_case and kebab-case into lower-case words.
func splitWords(s string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case r == '_' || r == '-' || r == '.' || r == ' ':
			flush()
		case unicode.IsUpper(r) && i > 0 && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]))):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return words
}

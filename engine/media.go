package engine

import (
	"mime"
	"strings"
)

// mediaType returns the bare, lower-case media type of a Content-Type value.
func mediaType(ct string) string {
	// Most values have no parameters: skip the full parse (it allocates).
	if !strings.ContainsAny(ct, "; \t") {
		return strings.ToLower(ct)
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	ct, _, _ = strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(ct))
}

// IsJSONMediaType says whether a Content-Type is JSON: application/json,
// text/json, any */*+json, and the vendor types whose subtype names json
// (application/x-amz-json-1.0; application/x-ndjson is not one: it is a
// stream). Lint reads bodies by the same rule.
func IsJSONMediaType(ct string) bool {
	mt := mediaType(ct)
	_, sub, _ := strings.Cut(mt, "/")
	return sub == "json" || strings.HasSuffix(sub, "+json") || (strings.HasPrefix(sub, "x-") && strings.Contains(sub, "-json") && !strings.Contains(sub, "ndjson"))
}

func isXMLType(ct string) bool {
	mt := mediaType(ct)
	return mt == "application/xml" || mt == "text/xml" || strings.HasSuffix(mt, "+xml")
}

func isFormType(ct string) bool { return mediaType(ct) == "application/x-www-form-urlencoded" }

func isMultipartType(ct string) bool { return strings.HasPrefix(mediaType(ct), "multipart/") }

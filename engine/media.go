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

// isJSONType covers application/json, any */*+json, and the AWS JSON
// protocols' application/x-amz-json-1.0 and 1.1.
func isJSONType(ct string) bool {
	mt := mediaType(ct)
	return mt == "application/json" || strings.HasSuffix(mt, "+json") || strings.HasPrefix(mt, "application/x-amz-json") || mt == "text/json"
}

func isXMLType(ct string) bool {
	mt := mediaType(ct)
	return mt == "application/xml" || mt == "text/xml" || strings.HasSuffix(mt, "+xml")
}

func isFormType(ct string) bool { return mediaType(ct) == "application/x-www-form-urlencoded" }

func isMultipartType(ct string) bool { return strings.HasPrefix(mediaType(ct), "multipart/") }

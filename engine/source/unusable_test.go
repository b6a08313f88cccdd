package source

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// One operation's schema says `required: true` (a boolean where a list of
// names belongs), as a public description does: that operation is left
// out, the others stay usable.
const brokenOne = `openapi: 3.0.3
info: {title: music, version: "1"}
paths:
  /tracks/{id}:
    get:
      operationId: getTrack
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        '200': {description: a track}
  /playlists/{id}/images:
    put:
      operationId: uploadCover
      requestBody:
        content:
          image/jpeg:
            schema:
              type: string
              required: true
      responses:
        '202': {description: accepted}
  /albums/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: string, required: true}}
    get:
      operationId: getAlbum
      responses:
        '200': {description: an album}
    delete:
      operationId: deleteAlbum
      responses:
        '204': {description: gone}
`

func TestMalformedOperationIsLeftOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "music.yaml")
	if err := os.WriteFile(path, []byte(brokenOne), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := (&Loader{}).Load(context.Background(), path, OpenAPI)
	if err != nil {
		t.Fatalf("the description is refused as a whole: %v", err)
	}
	if src.ByID("getTrack") == nil {
		t.Error("getTrack is not usable")
	}
	var got []string
	for _, u := range src.Unusable() {
		got = append(got, u.String())
		if !strings.Contains(u.Reason, "required") {
			t.Errorf("%s: reason %q", u, u.Reason)
		}
	}
	// A broken path-item parameter takes every operation of the item.
	want := "PUT /playlists/{id}/images (uploadCover), GET /albums/{id} (getAlbum), DELETE /albums/{id} (deleteAlbum)"
	if strings.Join(got, ", ") != want {
		t.Fatalf("unusable: %s\nwant %s", strings.Join(got, ", "), want)
	}
	if src.UnusableByPath("/playlists/{id}/images", "put") == nil || src.UnusableByID("uploadCover") == nil {
		t.Error("the left-out operation is not found by path or id")
	}
}

func TestBrokenEverywhereIsStillRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := (&Loader{}).Load(context.Background(), path, OpenAPI); err == nil {
		t.Fatal("a description whose paths are not an object loaded")
	}
}

package main

import "testing"

func TestUnifiedDiff(t *testing.T) {
	before := "a: 1\nb: $response.headers.X\nc: 2\nd: 3\ne: 4\nf: 5\ng: 6\nh: 7\n"
	after := "a: 1\nb: $response.header.X\nc: 2\nd: 3\ne: 4\nf: 5\ng: 6\nh: 8\n"
	want := "--- a/f.yaml\n+++ b/f.yaml\n" +
		"@@ -1,8 +1,8 @@\n a: 1\n-b: $response.headers.X\n+b: $response.header.X\n c: 2\n d: 3\n e: 4\n f: 5\n g: 6\n-h: 7\n+h: 8\n"
	if got := unifiedDiff("a/f.yaml", "b/f.yaml", before, after); got != want {
		t.Errorf("diff:\n%s\nwant:\n%s", got, want)
	}
	far := "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n"
	got := unifiedDiff("x", "y", far, "one\n2\n3\n4\n5\n6\n7\n8\n9\nten\n")
	want = "--- x\n+++ y\n@@ -1,4 +1,4 @@\n-1\n+one\n 2\n 3\n 4\n@@ -7,4 +7,4 @@\n 7\n 8\n 9\n-10\n+ten\n"
	if got != want {
		t.Errorf("two hunks:\n%s\nwant:\n%s", got, want)
	}
	if unifiedDiff("x", "y", far, far) != "" {
		t.Error("equal texts have no diff")
	}
}

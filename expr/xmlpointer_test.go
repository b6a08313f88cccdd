package expr

import (
	"reflect"
	"testing"
)

const listing = `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>reports</Name><KeyCount>2</KeyCount>
  <Contents><Key>2026/a.csv</Key><Size>10</Size></Contents>
  <Contents><Key>2026/b.csv</Key><Size>20</Size></Contents>
</ListBucketResult>`

func TestPointerOverXML(t *testing.T) {
	for _, tc := range []struct {
		ptr  string
		want any
		ok   bool
	}{
		{"/ListBucketResult/Name", "reports", true},
		{"/ListBucketResult/Contents/1/Key", "2026/b.csv", true},
		{"/Contents/0/Key", "2026/a.csv", true}, // the root's name may be left out
		{"/ListBucketResult/Contents/Key", "2026/a.csv", true},
		{"/ListBucketResult/Contents/0", map[string]any{"Key": "2026/a.csv", "Size": "10"}, true},
		{"/ListBucketResult/Contents/2/Key", nil, false},
		{"/ListBucketResult/Missing", nil, false},
	} {
		e, err := Parse("$response.body#" + tc.ptr)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := e.descend(listing)
		if ok != tc.ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s = %#v, %v; want %#v, %v", tc.ptr, got, ok, tc.want, tc.ok)
		}
	}
}

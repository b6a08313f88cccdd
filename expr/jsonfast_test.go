package expr

import (
	"context"
	"testing"
)

// The shortcut must answer exactly as the gval engine does, or decline.
func TestFastJSONPathAgreesWithGval(t *testing.T) {
	bodies := []string{
		`{"A":{"B":"X","N":5,"F":1.5,"T":true,"Z":null,"L":[{"S":"a"},{"S":"b"}]}}`,
		`{"A":{"B":"x","N":"5","T":"true","Z":0}}`,
		`{"A":{}}`, `{}`, `[]`, `{"A":[1,2]}`,
	}
	conds := []string{
		`$.A.B == "X"`, `$.A.B != "X"`, `$.A.B == 'X'`, `$.A.N == 5`, `$.A.N > 4`, `$.A.N <= 4.5`, `$.A.F < 2`,
		`$.A.T == true`, `$.A.T != false`, `$.A.Z == null`, `$.A.L[1].S == "b"`, `$['A']['B'] == "X"`,
		`$.A.B == "X" && $.A.N == 5`, `$.A.B == "nope" || $.A.N == 5`, `$.A.B == "X" || $.Missing == 1`,
		`$.A.N == "5"`, `$.A.N >= 5 && $.A.F > 1`, `$.A[0] == 1`,
	}
	for _, cond := range conds {
		fast := compileFast(cond)
		if fast == nil {
			t.Errorf("%s: the shortcut should recognise this shape", cond)
			continue
		}
		ev, err := goessner.NewEvaluable(toDoubleQuotes(cond))
		if err != nil {
			t.Fatalf("%s: %v", cond, err)
		}
		for _, body := range bodies {
			v := jsonValue(t, body)
			got, decided := fast.eval(v)
			if !decided {
				continue
			}
			res, err := ev(context.Background(), floatNumbers(v))
			want := err == nil && res == true
			if got != want {
				t.Errorf("%s on %s: shortcut %v, gval %v (%v)", cond, body, got, res, err)
			}
		}
	}
	for _, cond := range []string{`$.A[?(@.S == "a")]`, `$..B == "X"`, `$.A.B contains "X"`, `$.A.B in ["X"]`, `$.A.* == 1`, `$.A.B > "W"`} {
		if compileFast(cond) != nil {
			t.Errorf("%s is not a plain comparison", cond)
		}
	}
}

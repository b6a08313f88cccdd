package engine

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"testing"

	"github.com/arazzo-go/arazzo/engine/source"
)

func loadExample(t *testing.T, name string) *Plan {
	t.Helper()
	path := filepath.Join(specDir, "examples", name)
	plan, diags := LoadFile(context.Background(), path, &source.Loader{})
	if plan == nil {
		t.Fatal(diags.Error())
	}
	return plan
}

// oauth.arazzo.yaml against a server implementing oauth.openapi.yaml.
func TestOAuthExampleRuns(t *testing.T) {
	var mu sync.Mutex
	var forms []url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/authorize":
			q := r.URL.Query()
			if q.Get("response_type") != "code" || q.Get("client_id") == "" {
				w.WriteHeader(400)
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"code": "auth-code-1", "access_token": "unused"})
		case "/oauth/token":
			r.ParseForm()
			mu.Lock()
			forms = append(forms, r.PostForm)
			mu.Unlock()
			switch r.PostForm.Get("grant_type") {
			case "client_credentials", "authorization_code", "refresh_token":
				json.NewEncoder(w).Encode(map[string]any{"access_token": "at-" + r.PostForm.Get("grant_type"), "refresh_token": "rt-1", "expires_in": 3600})
			default:
				w.WriteHeader(400)
				json.NewEncoder(w).Encode(map[string]any{"error": "unsupported_grant_type"})
			}
		}
	}))
	defer srv.Close()
	plan := loadExample(t, "oauth.arazzo.yaml")
	opts := &Options{Servers: map[string]string{"apim-auth": srv.URL}, PollInterval: -1}
	res, err := plan.Run(context.Background(), "client-credentials-flow", map[string]any{"client_id": "c", "client_secret": "s"}, opts)
	if err != nil || res.Outputs["access_token"] != "at-client_credentials" {
		t.Fatalf("client credentials: %v %v", err, res)
	}
	res, err = plan.Run(context.Background(), "refresh-token-flow", map[string]any{"my_client_id": "c", "my_client_secret": "s", "my_redirect_uri": "https://app/cb"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outputs["access_token"] != "at-refresh_token" || res.Outputs["expires_in"] != json.Number("3600") {
		t.Fatalf("refresh flow outputs %v", res.Outputs)
	}
	last := forms[len(forms)-1]
	if last.Get("refresh_token") != "rt-1" || forms[1].Get("code") != "auth-code-1" || forms[1].Get("redirect_uri") != "https://app/cb" {
		t.Fatalf("form bodies %v", forms)
	}
}

// pet-coupons.arazzo.yaml against a server implementing its description.
// Its §19 defects show: apply-coupon names the path parameter pet_id where
// the path has {petId}, a dialect whose intent is certain, so it is sent as
// petId (with a warning); quantity is never supplied, so it is left out.
func TestPetCouponsExampleRuns(t *testing.T) {
	var mu sync.Mutex
	var orders []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/pet/findByStatus" && r.URL.Query().Get("status") == "available":
			w.Write([]byte(`[{"id": 10, "name": "doggie", "status": "available"}]`))
		case r.URL.Path == "/pet/findByTags":
			w.Write([]byte(`[{"id": 11, "name": "kitty"}]`))
		case r.URL.Path == "/pet/11/coupons":
			w.Write([]byte(`{"couponCode": "KITTY5"}`))
		case r.URL.Path == "/store/order" && r.Method == "POST":
			var o map[string]any
			json.NewDecoder(r.Body).Decode(&o)
			mu.Lock()
			orders = append(orders, o)
			mu.Unlock()
			w.Write([]byte(`{"id": 77, "status": "placed"}`))
		default:
			w.WriteHeader(404)
		}
	}))
	defer srv.Close()
	plan := loadExample(t, "pet-coupons.arazzo.yaml")
	opts := &Options{Servers: map[string]string{"pet-coupons": srv.URL}, PollInterval: -1}
	res, err := plan.Run(context.Background(), "buy-available-pet", nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outputs["buy_pet_order_id"] != json.Number("77") {
		t.Fatalf("outputs %v", res.Outputs)
	}
	if len(orders) != 1 || orders[0]["petId"] != float64(10) || orders[0]["status"] != "placed" || orders[0]["complete"] != false {
		t.Fatalf("order %v", orders)
	}
	if _, has := orders[0]["quantity"]; has {
		t.Fatal("quantity is never supplied, so it is not sent")
	}
	res, err = plan.Run(context.Background(), "apply-coupon", map[string]any{"my_pet_tags": []any{"cute"}}, opts)
	if err != nil || res.Outputs["apply_coupon_pet_order_id"] != json.Number("77") {
		t.Fatalf("apply-coupon, its pet_id sent as petId: %v %v", err, res)
	}
	if len(orders) != 2 || orders[1]["petId"] != float64(11) || orders[1]["couponCode"] != "KITTY5" {
		t.Fatalf("order with coupon %v", orders)
	}
}

package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
)

// shopHandler is $SHOP: an API that enforces what the documents of
// real-world style tested against it rely on.
//
//	POST /token        form grant_type=client_credentials, client_id=app,
//	                   client_secret=s3cret; else 401 invalid_client
//	GET  /orders       needs "Authorization: Bearer tok-app"; ?limit=N (an
//	                   integer) caps the list; answers {"Orders":[...]}
//	GET  /mounts/{fs}  {"MountTargets":[...]}: empty on the first two calls
//	                   for an fs, then one target (a resource that appears)
//	GET  /empty        {"Things":{}}: no member a condition may look for
func shopHandler() http.Handler {
	var mu sync.Mutex
	polls := map[string]int{}
	reply := func(w http.ResponseWriter, code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(v)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == "POST" && r.URL.Path == "/token":
			if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" ||
				r.PostForm.Get("client_id") != "app" || r.PostForm.Get("client_secret") != "s3cret" {
				reply(w, 401, map[string]any{"error": "invalid_client"})
				return
			}
			reply(w, 200, map[string]any{"access_token": "tok-app", "token_type": "Bearer"})
		case r.Method == "GET" && r.URL.Path == "/orders":
			if r.Header.Get("Authorization") != "Bearer tok-app" {
				reply(w, 401, map[string]any{"error": "missing or wrong bearer token"})
				return
			}
			orders := []any{map[string]any{"Id": "o-1", "State": "OPEN"}, map[string]any{"Id": "o-2", "State": "SHIPPED"}}
			switch l := r.URL.Query().Get("limit"); l {
			case "", "2":
			case "1":
				orders = orders[:1]
			default:
				reply(w, 400, map[string]any{"error": "limit must be an integer, got " + l})
				return
			}
			reply(w, 200, map[string]any{"Orders": orders})
		case r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/mounts/"):
			fs := strings.TrimPrefix(r.URL.Path, "/mounts/")
			mu.Lock()
			polls[fs]++
			n := polls[fs]
			mu.Unlock()
			targets := []any{}
			if n > 2 {
				targets = append(targets, map[string]any{"MountTargetId": "mt-" + fs, "LifeCycleState": "available"})
			}
			reply(w, 200, map[string]any{"MountTargets": targets})
		case r.Method == "GET" && r.URL.Path == "/empty":
			reply(w, 200, map[string]any{"Things": map[string]any{}})
		default:
			reply(w, 404, map[string]any{"error": "no such route"})
		}
	})
}

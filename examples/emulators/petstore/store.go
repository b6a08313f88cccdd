package petstore

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sync"
)

// The pet store's test user.
const (
	TestUser     = "alice"
	TestPassword = "wonderland"
)

// pets are the store's pets; 7 and 9 are available.
var pets = []map[string]any{
	{"id": 7, "name": "Rex", "status": "available"},
	{"id": 8, "name": "Tom", "status": "sold"},
	{"id": 9, "name": "Kit", "status": "available"},
}

func available(id int64) bool {
	for _, p := range pets {
		if int64(p["id"].(int)) == id {
			return p["status"] == "available"
		}
	}
	return false
}

// Store is the HTTP pet store: GET /user/login and GET /pet/findByStatus.
type Store struct {
	mu     sync.Mutex
	tokens map[string]bool
}

// NewStore returns the pet store handler.
func NewStore() *Store { return &Store{tokens: map[string]bool{}} }

func (s *Store) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/user/login":
		q := r.URL.Query()
		if q.Get("username") != TestUser || q.Get("password") != TestPassword {
			http.Error(w, `{"message":"invalid username or password"}`, http.StatusBadRequest)
			return
		}
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		tok := hex.EncodeToString(b)
		s.mu.Lock()
		s.tokens[tok] = true
		s.mu.Unlock()
		w.Header().Set("X-Rate-Limit", "100")
		w.Header().Set("X-Expires-After", "2030-01-01T00:00:00Z")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(tok)
	case r.Method == http.MethodGet && r.URL.Path == "/pet/findByStatus":
		s.mu.Lock()
		ok := s.tokens[r.Header.Get("Authorization")]
		s.mu.Unlock()
		if !ok {
			http.Error(w, `{"message":"log in first: Authorization must be a session token"}`, http.StatusUnauthorized)
			return
		}
		status := r.URL.Query().Get("status")
		out := []map[string]any{}
		for _, p := range pets {
			if p["status"] == status {
				out = append(out, p)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	default:
		http.NotFound(w, r)
	}
}

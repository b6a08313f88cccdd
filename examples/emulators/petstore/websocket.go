package petstore

import (
	"encoding/base64"
	"encoding/json"
	"net/http"

	"github.com/coder/websocket"
)

// WSOrdersPath is where the WebSocket order service listens.
const WSOrdersPath = "/orders"

// WebSocket is the order service over WebSocket: a client sends
// {"requestId": ..., "petId": N} on /orders and the answer comes back on
// the same connection with the same requestId (the correlation id is in
// the payload: WebSocket messages have no headers). With User set, the
// handshake needs HTTP basic authentication.
func (o *Orders) WebSocket(user, password string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != WSOrdersPath {
			http.NotFound(w, r)
			return
		}
		if user != "" && r.Header.Get("Authorization") != "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+password)) {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		ctx := r.Context()
		for {
			_, data, err := ws.Read(ctx)
			if err != nil {
				return
			}
			var req struct {
				RequestID string `json:"requestId"`
			}
			_ = json.Unmarshal(data, &req)
			o.reply(req.RequestID, data, func(corr string, body []byte) {
				_ = ws.Write(ctx, websocket.MessageText, withRequestID(corr, body))
			})
		}
	})
}

// withRequestID adds "requestId" to a JSON object body.
func withRequestID(id string, body []byte) []byte {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	m["requestId"] = id
	out, _ := json.Marshal(m)
	return out
}

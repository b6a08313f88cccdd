// Command arazzo-emulate serves the emulators that embed a broker (Kafka,
// NATS, MQTT) and the WebSocket order service, each with the pet purchase
// example's order service. arazzo runs it for `arazzo emulate
// kafka|nats|mqtt|websocket` and `arazzo run --emulate petstore`, so that
// the arazzo binary itself links no broker. Its logic is in
// examples/emulators/emulatecli.
package main

import (
	"os"

	"github.com/arazzo-go/arazzo/examples/emulators/emulatecli"
)

func main() { os.Exit(emulatecli.Run()) }

# The socketify (uWebSockets + Python) peer for scripts/bench/peers.sh: a WebSocket endpoint
# at /* that echoes messages and otherwise holds the connection idle. Port from argv[1].
import sys
from socketify import App, OpCode, CompressOptions

port = int(sys.argv[1])
app = App()
app.ws("/*", {
    "compression": CompressOptions.DISABLED,
    "max_payload_length": 16 * 1024 * 1024,
    "idle_timeout": 960,
    "message": lambda ws, message, opcode: ws.send(message, opcode),
})
app.listen(port, lambda config: print("listening %d" % config.port, flush=True))
app.run()

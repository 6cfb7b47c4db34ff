# Checks docs/asyncapi.yaml against the running stack (run by scripts/test.d/schemathesis.sh
# in its virtualenv: PyYAML, jsonschema, pika).
#
#   python asyncapi_check.py GATEWAY_URL AMQP_URL TOKEN_FILE
#
# 1. Binds a private, exclusive queue to instaverse.events with `#`, so it receives a copy of
#    every event the services publish from then on.
# 2. Through the gateway, as a client would: registers alice, bob and carol; bob and carol
#    open WebSockets (Authorization header); alice posts a story mentioning @bob, likes and
#    comments (with a mention) on bob's story and follows him; bob edits his profile; alice
#    edits and deletes her story; carol deletes her account (notifyd closes her session). bob's
#    session then sends ack and read, three bad messages (each answered with an error frame)
#    and a binary frame (closed with 1003); a second session resumes with since=0 over the
#    bearer.<jwt> subprotocol; two upgrades are refused (no token, a forged one).
# 3. Checks that every `$ref` of the document resolves, then validates every captured event
#    (payload by routing key, and the AMQP properties docs/events.md fixes) and every captured
#    frame, close frame and refusal body against the AsyncAPI message schemas. Any mismatch,
#    unknown routing key or unknown message type fails.
# 4. Proves the schemas can fail: a captured event and a captured frame with one required
#    field removed must be refused.
#
# Every wait is a condition with a deadline (ASYNCAPI_DEADLINE seconds, default 30). Tokens are
# never printed; alice's token and id go to TOKEN_FILE for the schemathesis run that follows.
import json
import os
import socket
import struct
import sys
import time
import urllib.error
import urllib.request

import jsonschema
import pika
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, "Tests", "fixtures"))
import wsclient  # noqa: E402  (the project's stdlib WebSocket test client)

DEADLINE = float(os.environ.get("ASYNCAPI_DEADLINE", "30"))
SPEC_URI = "urn:instaverse:asyncapi"


class CheckFailed(Exception):
    pass


def fail(message):
    raise CheckFailed(message)


def wait_until(what, condition):
    """Polls `condition` until it returns a true value (returned) or the deadline passes."""
    end = time.monotonic() + DEADLINE
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            fail(f"gave up waiting for {what} after {DEADLINE:.0f}s")
        time.sleep(0.1)


# ---------------------------------------------------------------- the specification

class Spec:
    """The AsyncAPI document and a validator for any of its message payloads."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.doc = yaml.safe_load(f)
        if self.doc.get("asyncapi") != "3.0.0":
            fail(f"{path}: not an AsyncAPI 3.0.0 document")
        broken = [ref for ref in self._refs(self.doc) if not self._resolves(ref)]
        if broken:
            fail(f"{path}: references that resolve to nothing: {sorted(set(broken))}")
        self.registry = Registry().with_resource(SPEC_URI, Resource.from_contents(self.doc, default_specification=DRAFT7))
        self.session = self.doc["channels"]["session"]["messages"]
        # routing key -> the one message of its channel
        self.events = {}
        for name, channel in self.doc["channels"].items():
            bindings = channel.get("bindings", {})
            if "amqp" in bindings:
                (message,) = channel["messages"].values()
                self.events[channel["address"]] = message["$ref"]

    @classmethod
    def _refs(cls, node):
        """Every local `$ref` in the document (channels, operations, messages, schemas)."""
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str):
                    yield value
                else:
                    yield from cls._refs(value)
        elif isinstance(node, list):
            for item in node:
                yield from cls._refs(item)

    def _resolves(self, ref):
        if not ref.startswith("#/"):
            return False
        node = self.doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return True

    def errors(self, message_ref, value):
        """The validation errors of `value` against the payload of the message at `message_ref`."""
        pointer = message_ref.lstrip("#") + "/payload"
        validator = jsonschema.Draft7Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=self.registry)
        return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(value)]

    def session_ref(self, name):
        return self.session[name]["$ref"]


# ---------------------------------------------------------------- the gateway, as a client

class Gateway:
    def __init__(self, base):
        self.base = base.rstrip("/")
        host_port = self.base.split("://", 1)[1]
        self.host, port = host_port.split(":")
        self.port = int(port)

    def call(self, method, path, token=None, body=None):
        """(status, parsed JSON or None)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if body is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def expect(self, statuses, method, path, token=None, body=None):
        status, answer = self.call(method, path, token, body)
        if status not in statuses:
            fail(f"{method} {path} answered {status}: {answer}")
        return answer

    def register(self, name):
        answer = self.expect({201}, "POST", "/auth/register", body={
            "username": name, "email": f"{name}@example.com", "password": "correct horse battery"})
        return answer["token"], answer["user"]["id"]


class Session:
    """A raw WebSocket through the gateway; records every text frame and the close frame."""

    def __init__(self, gateway, path, headers):
        self.sock, self.status, rest = wsclient.connect(gateway.host, gateway.port, path, headers, timeout=DEADLINE)
        self.texts = []
        self.close = None
        self.frames = wsclient.frames(self.sock, rest) if self.status == 101 else None

    def read_until(self, what, condition):
        """Reads frames until `condition(self)` holds; the socket timeout bounds each read."""
        end = time.monotonic() + DEADLINE
        while not condition(self):
            if self.close is not None or time.monotonic() > end:
                fail(f"gave up waiting for {what}; frames so far: {self.texts}, close: {self.close}")
            try:
                opcode, payload = next(self.frames)
            except (EOFError, StopIteration, socket.timeout) as error:
                fail(f"session ended while waiting for {what}: {error!r}")
            if opcode == 1:
                self.texts.append(json.loads(payload))
            elif opcode == 9:
                self.send(10, payload)  # answer notifyd's idle ping, or it closes the transport
            elif opcode == 8:
                code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
                self.close = {"code": code, "reason": payload[2:].decode()}

    def send(self, opcode, payload):
        """One masked frame (payloads under 126 bytes, which is all this check sends)."""
        if len(payload) >= 126:
            raise ValueError("payload too long for this helper")
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)

    def send_json(self, value):
        self.send(1, json.dumps(value, separators=(",", ":")).encode())

    def of_type(self, kind):
        return [t for t in self.texts if t.get("type") == kind]

    def notifications(self):
        return [t["notification"] for t in self.of_type("notification")]


def refusal(gateway, path, headers):
    """The status and body of an upgrade the server refuses (no 101)."""
    sock, status, rest = wsclient.connect(gateway.host, gateway.port, path, headers, timeout=DEADLINE)
    body = rest
    sock.settimeout(DEADLINE)
    try:
        while True:
            try:
                return status, json.loads(body)
            except ValueError:
                pass
            chunk = sock.recv(65536)
            if not chunk:
                return status, body.decode(errors="replace")
            body += chunk
    finally:
        sock.close()


# ---------------------------------------------------------------- the broker

class Capture:
    """A private queue bound to instaverse.events with `#`: every event published from now."""

    def __init__(self, url):
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        self.channel.exchange_declare("instaverse.events", exchange_type="topic", durable=True)
        queue = self.channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
        self.channel.queue_bind(queue, "instaverse.events", routing_key="#")
        self.events = []
        self.channel.basic_consume(queue, self._got, auto_ack=True)

    def _got(self, _channel, method, properties, body):
        self.events.append((method.routing_key, properties, body))

    def poll(self):
        self.connection.process_data_events(time_limit=0.1)
        return self.events

    def keys(self):
        return {key for key, _, _ in self.events}

    def close(self):
        self.connection.close()


# ---------------------------------------------------------------- the flow

def drive(spec, gateway, capture, token_file):
    """Produces every event type and every session message kind; returns the sessions.
    alice's token and id go to `token_file` at once, so the schemathesis run that follows
    has its user even when a check below fails."""
    alice, alice_id = gateway.register("alice")
    with open(token_file, "w") as f:
        json.dump({"token": alice, "userId": alice_id}, f)
    bob, bob_id = gateway.register("bob")
    carol, carol_id = gateway.register("carol")

    bob_story = gateway.expect({201}, "POST", "/stories", bob, {"caption": "my first story", "tags": ["hello"]})
    # Mentions resolve against the services' copies of usernames (fed by user.registered):
    # wait until story and social know bob, or the mentions below would notify nobody.
    wait_until("story-service to know bob", lambda: gateway.call("GET", f"/stories/{bob_story['id']}")[1].get("username") == "bob")
    gateway.expect({201}, "POST", f"/social/follows/{bob_id}", carol)
    wait_until("social-service to know bob", lambda: any(
        u["username"] == "bob" for u in gateway.call("GET", f"/social/following/{carol_id}")[1].get("following", [])))

    session = Session(gateway, f"/ws?userId={bob_id}", [("Authorization", f"Bearer {bob}")])
    if session.status != 101:
        fail(f"bob's WebSocket was not upgraded: {session.status}")
    session.read_until("the backlog", lambda s: s.of_type("backlog"))

    doomed = Session(gateway, f"/ws?userId={carol_id}", [("Authorization", f"Bearer {carol}")])
    if doomed.status != 101:
        fail(f"carol's WebSocket was not upgraded: {doomed.status}")
    doomed.read_until("carol's backlog", lambda s: s.of_type("backlog"))

    alice_story = gateway.expect({201}, "POST", "/stories", alice, {"caption": "hello @bob", "category": "travel"})
    # The seed's like (no body) and comment (only its text): social finds the post's owner.
    gateway.expect({200, 201}, "POST", f"/social/likes/{bob_story['id']}", alice)
    gateway.expect({201}, "POST", f"/social/comments/{bob_story['id']}", alice, {"text": "nice one @bob"})
    gateway.expect({201}, "POST", f"/social/follows/{bob_id}", alice)
    gateway.expect({200}, "PUT", f"/auth/profile/{bob_id}", bob, {"bio": "I post stories"})
    gateway.expect({200}, "PUT", f"/stories/{alice_story['id']}", alice, {"caption": "hello again @bob"})
    gateway.expect({204}, "DELETE", f"/stories/{alice_story['id']}", alice)
    gateway.expect({204}, "DELETE", f"/auth/users/{carol_id}", carol)
    # notifyd ends a deleted user's sessions (user.deleted): a second real close frame.
    doomed.read_until("carol's session to be closed after her account was deleted", lambda s: s.close is not None)

    # Only alice's notifications count: carol's follow may still have been in flight when
    # bob's session opened (then it arrives live), and carol's deletion removes it again, so
    # a read of it could never show.
    def from_alice(s):
        return [n for n in s.notifications() if n["actor"]["id"] == alice_id]
    kinds = {"MENTION", "LIKE_NOTIFICATION", "COMMENT_NOTIFICATION", "NEW_FOLLOWER"}
    session.read_until(f"live {sorted(kinds)} from alice", lambda s: kinds <= {n["kind"] for n in from_alice(s)}
                       and sum(n["kind"] == "MENTION" for n in from_alice(s)) >= 2)

    ids = [n["id"] for n in from_alice(session)]
    session.send_json({"type": "ack", "ids": ids})
    session.send_json({"type": "read", "ids": ids[:1]})
    session.send(1, b"{not json")
    session.send_json({"type": "shout"})
    session.send_json({"type": "read", "ids": "all"})
    errors = {"invalid_json", "unknown_type", "bad_ids"}
    session.read_until(f"error frames {sorted(errors)}", lambda s: errors <= {e["error"] for e in s.of_type("error")})

    # ack and read have no reply: the read is applied on notifyd's store thread, so wait until
    # REST shows it before a new session reads its backlog.
    wait_until("bob's read to be applied", lambda: any(
        n["id"] == ids[0] and n["read"] for n in gateway.call("GET", f"/notifications/{bob_id}", bob)[1]["notifications"]))
    resumed = Session(gateway, f"/ws?userId={bob_id}&since=0", [("Sec-WebSocket-Protocol", f"bearer.{bob}")])
    if resumed.status != 101:
        fail(f"bob's resuming WebSocket (bearer subprotocol) was not upgraded: {resumed.status}")
    resumed.read_until("the resumed backlog", lambda s: s.of_type("backlog"))
    if not any(n["read"] for n in resumed.of_type("backlog")[0]["notifications"]):
        fail("the resumed backlog shows no notification read, though bob sent a read")

    session.send(2, b"\x00binary")
    session.read_until("the close frame after a binary message", lambda s: s.close is not None)

    refusals = [refusal(gateway, f"/ws?userId={bob_id}", []),
                refusal(gateway, f"/ws?userId={bob_id}", [("Authorization", "Bearer " + bob[:-4] + "AAAA")])]
    for status, body in refusals:
        if status not in (400, 401, 403):
            fail(f"a refused upgrade answered {status}: {body}")

    wanted = set(spec.events)
    wait_until(f"one event of each type {sorted(wanted)}", lambda: (capture.poll(), wanted <= capture.keys())[1])
    return alice, alice_id, [session, resumed, doomed], refusals


# ---------------------------------------------------------------- validation

def check_event(spec, key, properties, body):
    problems = []
    if key not in spec.events:
        return [f"routing key {key} is not described"]
    try:
        event = json.loads(body)
    except ValueError as error:
        return [f"{key}: body is not JSON ({error})"]
    if len(body) > 65536:
        problems.append(f"{key}: body is {len(body)} bytes, over 64 KiB")
    problems += [f"{key}: {e}" for e in spec.errors(spec.events[key], event)]
    expected = {"content_type": "application/json", "delivery_mode": 2, "type": key, "message_id": event.get("id")}
    for name, value in expected.items():
        if getattr(properties, name) != value:
            problems.append(f"{key}: AMQP property {name} is {getattr(properties, name)!r}, not {value!r}")
    if event.get("type") != key:
        problems.append(f"{key}: body type {event.get('type')!r} is not the routing key")
    return problems


def check_frames(spec, sessions, refusals):
    problems, counts = [], {}
    for session in sessions:
        for frame in session.texts:
            kind = frame.get("type")
            if kind not in ("backlog", "notification", "error"):
                problems.append(f"frame of unknown type: {frame}")
                continue
            counts[kind] = counts.get(kind, 0) + 1
            problems += [f"{kind} frame: {e}" for e in spec.errors(spec.session_ref(kind), frame)]
        if session.close is not None:
            counts["close"] = counts.get("close", 0) + 1
            problems += [f"close frame: {e}" for e in spec.errors(spec.session_ref("close"), session.close)]
    for status, body in refusals:
        counts["handshakeRefusal"] = counts.get("handshakeRefusal", 0) + 1
        problems += [f"refusal {status}: {e}" for e in spec.errors(spec.session_ref("handshakeRefusal"), body)]
    return problems, counts


def check_schemas_can_fail(spec, events, sessions):
    """A valid event and frame with a required field removed must fail: the check has teeth."""
    key, properties, body = next((e for e in events if e[0] == "post.liked"), events[0])
    broken = json.loads(body)
    broken["data"].pop(next(iter(broken["data"])))
    if not spec.errors(spec.events[key], broken):
        fail(f"the {key} schema accepts an event whose data lacks a required field")
    frame = json.loads(json.dumps(sessions[0].of_type("notification")[0]))
    del frame["notification"]["read"]
    if not spec.errors(spec.session_ref("notification"), frame):
        fail("the notification message schema accepts a notification without `read`")


def main(argv):
    if len(argv) != 4:
        print("usage: asyncapi_check.py GATEWAY_URL AMQP_URL TOKEN_FILE", file=sys.stderr)
        return 2
    gateway, amqp_url, token_file = Gateway(argv[1]), argv[2], argv[3]
    spec = Spec(os.path.join(ROOT, "docs", "asyncapi.yaml"))
    capture = Capture(amqp_url)
    try:
        _, _, sessions, refusals = drive(spec, gateway, capture, token_file)
        capture.poll()
        events = list(capture.events)
    finally:
        capture.close()
    problems = []
    for key, properties, body in events:
        problems += check_event(spec, key, properties, body)
    frame_problems, counts = check_frames(spec, sessions, refusals)
    problems += frame_problems
    for needed in ("backlog", "notification", "error", "close", "handshakeRefusal"):
        if not counts.get(needed):
            problems.append(f"no {needed} was captured")
    if problems:
        print("asyncapi: FAILED: captured traffic does not match docs/asyncapi.yaml:")
        for problem in problems:
            print("  - " + problem)
        return 1
    check_schemas_can_fail(spec, events, sessions)
    by_key = {}
    for key, _, _ in events:
        by_key[key] = by_key.get(key, 0) + 1
    print(f"asyncapi: ok: {len(events)} events ({', '.join(f'{k} {n}' for k, n in sorted(by_key.items()))}) and "
          f"{', '.join(f'{n} {k}' for k, n in sorted(counts.items()))} match docs/asyncapi.yaml")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except CheckFailed as error:
        print(f"asyncapi: FAILED: {error}")
        sys.exit(1)

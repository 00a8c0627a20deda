"""A Pinhole peer built on aiortc, written from docs/protocol/ alone (hub.md
sections 2.1 and 3, peer.md section 12), as an outside implementer would: it talks to the hub over WebSocket, joins a
room and, for every other member, builds one RTCPeerConnection with the SDK's
conventions (control channel, perfect-negotiation roles, trickled candidates, named
channels, file transfers).

Usage: aiortc_peer.py HUB_WS_URL ROOM [--channel NAME] [--send-file SIZE] [--token JWT]

Reports to stdout, one JSON object per line, for the test driving it:
  {"event": "welcome", "peer": ID}           after the hub's welcome
  {"event": "connection", "remote": ID, "polite": BOOL}
  {"event": "message", "channel": NAME, "kind": "text"|"json"|"binary", "data": …}
                                             (binary: {"size": N, "sha256": HEX})
  {"event": "file", "name": NAME, "size": N, "sha256": HEX, "ok": BOOL}  a file received
  {"event": "file-sent", "id": ID, "sha256": HEX}                        `done` matched
  {"event": "error", "message": TEXT}
  {"event": "signal", "kind": "description"|"candidate"|"end", …}   each rtc signal received
Commands on stdin, one JSON object per line:
  {"join": true}  joins the room (the test reads the peer id first, to arrange politeness)
  {"send": TEXT}  sends TEXT as a text message on the named channel
"""

import argparse
import asyncio
import hashlib
import json
import os
import re
import sys

import websockets
from aiortc import RTCDataChannel, RTCIceCandidate, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp

CHANNEL_PREFIX = "pinhole-channel:"
FILE_PREFIX = "pinhole-file:"
FILE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CHUNK = 16 * 1024


def report(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


class Hub:
    """One WebSocket session: hello, join, signal; acknowledges every sequenced frame."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 1

    async def send(self, frame):
        frame = {**frame, "id": self.next_id}
        self.next_id += 1
        await self.ws.send(json.dumps(frame))

    async def frames(self):
        async for message in self.ws:
            data = json.loads(message)
            for frame in data if isinstance(data, list) else [data]:
                if "seq" in frame:
                    await self.ws.send(json.dumps({"type": "ack", "seq": frame["seq"]}))
                yield frame


class Peer:
    """One remote member: its RTCPeerConnection (generation 0) and its channels."""

    def __init__(self, app, remote):
        self.app = app
        self.remote = remote
        self.polite = app.peer_id < remote  # §12.1: the smaller id is polite
        self.pc = None
        self.build(0)

    def build(self, gen):
        """A new RTCPeerConnection of generation `gen` (§12.1, "Generations")."""
        self.gen = gen
        self.pc = RTCPeerConnection()
        self.channels = {}  # name -> RTCDataChannel we send on
        self.pending = []  # candidates received before the remote description
        # §12.1: the negotiated control channel, id 0, on every connection.
        self.pc.createDataChannel("pinhole", negotiated=True, id=0)
        self.pc.on("datachannel", self.on_datachannel)
        report("connection", remote=self.remote, polite=self.polite, gen=gen)

    async def signal(self, payload):
        await self.app.hub.send({"type": "signal", "to": self.remote, "room": self.app.room,
                                 "data": {"pinhole": "rtc", "gen": self.gen, **payload}})

    async def start(self):
        pc = self.pc
        if self.app.file_size:
            @pc.on("connectionstatechange")
            def on_state():
                if pc.connectionState == "connected":
                    self.send_file(self.app.file_size)
        if self.app.channel:
            self.open_channel(self.app.channel)
        if not self.polite:  # the impolite side must make the first offer
            await self.pc.setLocalDescription(await self.pc.createOffer())
            await self.send_description()

    async def send_description(self):
        # aiortc does not trickle: its SDP holds every candidate and a=end-of-candidates,
        # which §12.1 allows. The null afterwards is harmless and keeps the sequence whole.
        d = self.pc.localDescription
        await self.signal({"description": {"type": d.type, "sdp": d.sdp}})
        await self.signal({"candidate": None})

    async def handle(self, data):
        if "description" in data:
            report("signal", kind="description", type=data["description"]["type"], sdp=data["description"]["sdp"])
        elif "candidate" in data:
            c = data["candidate"]
            report("signal", kind="end") if c is None else report("signal", kind="candidate", candidate=c["candidate"])
        gen = data.get("gen")
        if gen < self.gen:
            return  # a replaced connection's signal
        if gen > self.gen:  # the remote rebuilt: so do we, then apply the signal
            await self.pc.close()
            self.build(gen)
            await self.start()
        if "restart" in data:
            return
        if "description" in data:
            d = data["description"]
            if d["type"] == "offer" and self.pc.signalingState != "stable" and not self.polite:
                return  # impolite: ignore a colliding offer
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=d["sdp"], type=d["type"]))
            for c in self.pending:
                await self.add_candidate(c)
            self.pending = []
            if d["type"] == "offer":
                await self.pc.setLocalDescription(await self.pc.createAnswer())
                await self.send_description()
        elif "candidate" in data:
            if self.pc.remoteDescription is None:
                self.pending.append(data["candidate"])
            else:
                await self.add_candidate(data["candidate"])

    async def add_candidate(self, c):
        if c is None:
            return  # end-of-candidates: nothing to do for aiortc
        try:
            candidate = candidate_from_sdp(c["candidate"].split(":", 1)[1])
            candidate.sdpMid = c.get("sdpMid")
            candidate.sdpMLineIndex = c.get("sdpMLineIndex")
            await self.pc.addIceCandidate(candidate)
        except Exception as err:  # §12.1: a candidate that fails to apply is ignored
            report("candidate-ignored", candidate=c["candidate"], reason=str(err))

    # §12.2 named channels
    def open_channel(self, name):
        dc = self.pc.createDataChannel(CHANNEL_PREFIX + name, ordered=True, protocol="pinhole")
        self.channels[name] = dc
        self.bind_channel(name, dc)

        @dc.on("open")
        def on_open():
            dc.send("t" + f"hello from aiortc {self.app.peer_id}")
            dc.send("j" + json.dumps({"from": "aiortc", "n": 1}))
            dc.send(bytes(range(256)) * 4)

    def bind_channel(self, name, dc):
        @dc.on("message")
        def on_message(message):
            if isinstance(message, bytes):
                report("message", channel=name, kind="binary",
                       data={"size": len(message), "sha256": hashlib.sha256(message).hexdigest()})
            elif message.startswith("t"):
                report("message", channel=name, kind="text", data=message[1:])
            elif message.startswith("j"):
                report("message", channel=name, kind="json", data=json.loads(message[1:]))
            elif message == "c":
                report("closed", channel=name)

    def on_datachannel(self, dc: RTCDataChannel):
        if dc.label.startswith(CHANNEL_PREFIX):
            name = dc.label[len(CHANNEL_PREFIX):]
            self.bind_channel(name, dc)
            # §12.2: each side sends on the channel it created; one that never opened the
            # name answers on the peer's.
            self.channels.setdefault(name, dc)
        elif dc.label.startswith(FILE_PREFIX):
            FileReceiver(dc)

    def send_text(self, text):
        for dc in self.channels.values():
            if dc.readyState == "open":
                dc.send("t" + text)

    def send_file(self, size):
        FileSender(self.pc, os.urandom(size))


class FileReceiver:
    """§12.3, receiving side: accept every offer, hash, ack, check `end`, answer `done`."""

    def __init__(self, dc):
        self.dc = dc
        self.id = dc.label[len(FILE_PREFIX):]
        self.offer = None
        self.received = 0
        self.acked = 0
        self.hash = hashlib.sha256()
        dc.on("message", self.on_message)

    def control(self, message):
        self.dc.send(json.dumps(message))

    def on_message(self, message):
        if isinstance(message, bytes):
            self.hash.update(message)
            self.received += len(message)
            if self.received - self.acked >= 1024 * 1024 or self.received == self.offer["size"]:
                self.acked = self.received
                self.control({"t": "ack", "offset": self.received})
            return
        m = json.loads(message)
        if m["t"] == "offer":
            if not FILE_ID.match(self.id) or m.get("id") != self.id or m.get("v") != 1:
                self.control({"t": "error", "code": "bad-message", "message": "bad offer"})
                return
            self.offer = m
            self.control({"t": "accept", "offset": 0})
        elif m["t"] == "end":
            digest = self.hash.hexdigest()
            ok = digest == m["sha256"] and self.received == m["size"]
            report("file", name=self.offer["name"], size=self.received, sha256=digest, ok=ok)
            if ok:
                self.control({"t": "done", "sha256": digest})
            else:
                self.control({"t": "error", "code": "digest-mismatch", "message": "digest mismatch"})
        elif m["t"] in ("cancel", "error"):
            report("error", message=f"transfer {self.id} ended: {message}")


class FileSender:
    """§12.3, sending side: offer, wait for accept, chunks, end, check `done`."""

    def __init__(self, pc, data):
        self.data = data
        self.id = os.urandom(16).hex()
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.dc = pc.createDataChannel(FILE_PREFIX + self.id, ordered=True, protocol="pinhole-file")
        self.dc.on("open", self.on_open)
        self.dc.on("message", self.on_message)

    def on_open(self):
        self.dc.send(json.dumps({"t": "offer", "v": 1, "id": self.id, "name": "from-aiortc.bin",
                                 "size": len(self.data), "type": "application/octet-stream", "chunk": CHUNK}))

    def on_message(self, message):
        m = json.loads(message)
        if m["t"] == "accept":
            # aiortc queues without limit; the file is small enough to hand over at once.
            for offset in range(m["offset"], len(self.data), CHUNK):
                self.dc.send(self.data[offset:offset + CHUNK])
            self.dc.send(json.dumps({"t": "end", "size": len(self.data), "sha256": self.sha256}))
        elif m["t"] == "done":
            report("file-sent", id=self.id, sha256=m["sha256"], ok=m["sha256"] == self.sha256)
            self.dc.close()
        elif m["t"] in ("reject", "cancel", "error"):
            report("error", message=f"transfer {self.id} ended: {message}")


class App:
    def __init__(self, args):
        self.url = args.hub
        self.room = args.room
        self.channel = args.channel
        self.file_size = args.send_file
        self.token = args.token
        self.peers = {}
        self.peer_id = None
        self.hub = None

    async def add_peer(self, remote):
        if remote in self.peers:
            return
        peer = self.peers[remote] = Peer(self, remote)
        await peer.start()

    async def commands(self):
        reader = asyncio.StreamReader()
        await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while line := await reader.readline():
            command = json.loads(line)
            if command.get("join"):
                await self.hub.send({"type": "join", "room": self.room, "meta": {"name": "aiortc"}})
                continue
            for peer in self.peers.values():
                peer.send_text(command["send"])

    async def run(self):
        async with websockets.connect(self.url, compression=None) as ws:
            self.hub = Hub(ws)
            await ws.send(json.dumps({"type": "hello", **({"token": self.token} if self.token else {})}))
            asyncio.ensure_future(self.commands())
            async for frame in self.hub.frames():
                kind = frame["type"]
                if kind == "welcome":
                    self.peer_id = frame["peer"]
                    report("welcome", peer=self.peer_id)
                elif kind == "joined":
                    report("joined", peers=[member["peer"] for member in frame["peers"]])
                    for member in frame["peers"]:
                        await self.add_peer(member["peer"])
                elif kind == "peer-joined":
                    await self.add_peer(frame["peer"])
                elif kind == "signal":
                    data = frame["data"]
                    if isinstance(data, dict) and data.get("pinhole") == "rtc":
                        await self.add_peer(frame["from"])
                        try:
                            await self.peers[frame["from"]].handle(data)
                        except Exception as err:
                            report("error", message=f"signal: {err!r}")
                elif kind == "error":
                    report("error", message=f"hub: {frame.get('code')} {frame.get('message')}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("hub")
    parser.add_argument("room")
    parser.add_argument("--channel")
    parser.add_argument("--send-file", type=int, default=0)
    parser.add_argument("--token")
    asyncio.run(App(parser.parse_args()).run())


if __name__ == "__main__":
    main()

"""An SFU client built on aiortc, written from docs/protocol/ alone (hub.md sections 2.1
and 3, sfu.md section 15), as an outside implementer would: it talks to the hub over
WebSocket, joins a room, finds the SFU by `service`, publishes a VP8 colour pattern and
audio (one publishing connection, non-trickle), and subscribes to every other publisher
the SFU announces, on ONE subscriber connection that answers each pinhole:sfu-offer
(renegotiations included). Decoded frames are counted per publisher through the latest
offer's `tracks`.

Usage: aiortc_sfu.py HUB_WS_URL ROOM [--name NAME] [--token JWT]
(AIORTC_SFU_DEBUG=1 in the environment: aiortc's and aioice's debug log on stderr)

Reports to stdout, one JSON object per line:
  {"event": "welcome", "peer": ID}
  {"event": "sfu", "peer": ID}                        the SFU member was found
  {"event": "published", "state": STATE}              the publish answer was applied
  {"event": "offer", "n": N, "tracks": [...]}         the Nth offer of the subscriber session, answered
  {"event": "stats", "frames": {PUBLISHER: {"video": N, "audio": N}}, "packets": {MID: N},
   "subscriberConnections": N, "offers": N, "publish": STATE, "subscribe": STATE}   every 0.5 s
  {"event": "error", "data": {...}}                   a pinhole:sfu-error or a hub error
  {"event": "left"}                                   the room was left (the leave command)
Commands on stdin, one JSON object per line:
  {"leave": true}  leaves the room (hub.md `leave`): the SFU drops its publication and session
"""

import argparse
import asyncio
import fractions
import json
import logging
import os
import sys
import time

import websockets
from av import VideoFrame
from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, VideoStreamTrack
from aiortc.sdp import candidate_from_sdp

WIDTH, HEIGHT, FPS = 160, 120, 15


def report(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


class ColourPattern(VideoStreamTrack):
    """A moving colour bar pattern, FPS frames a second."""

    def __init__(self):
        super().__init__()
        self.n = 0
        self.start = None

    async def next_timestamp(self):
        if self.start is None:
            self.start = time.time()
        else:
            await asyncio.sleep(max(0, self.start + self.n / FPS - time.time()))
        return int(self.n * 90000 / FPS), fractions.Fraction(1, 90000)

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame(width=WIDTH, height=HEIGHT, format="yuv420p")
        shift = self.n % WIDTH
        row = bytes(((x + shift) % WIDTH) * 255 // WIDTH for x in range(WIDTH))
        frame.planes[0].update(row * HEIGHT)
        frame.planes[1].update(bytes([(self.n * 7) % 256]) * (WIDTH * HEIGHT // 4))
        frame.planes[2].update(bytes([(255 - self.n * 5) % 256]) * (WIDTH * HEIGHT // 4))
        frame.pts, frame.time_base = pts, time_base
        self.n += 1
        return frame


class Hub:
    """One WebSocket session (hub.md §2.1): hello, then numbered frames; acks every sequenced frame."""

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


class Client:
    def __init__(self, hub, room, name):
        self.hub = hub
        self.room = room
        self.name = name
        self.me = None
        self.sfu = None
        self.inbox = asyncio.Queue()  # the SFU's signals and broadcasts, handled in order
        self.publisher = None  # the publishing RTCPeerConnection
        self.subscriber = None  # the ONE subscriber RTCPeerConnection (sfu.md §15.4)
        self.subscriber_connections = 0
        self.offers = 0
        self.mapping = {}  # mid -> {publisher, kind}, from the latest offer's `tracks`
        self.subscribed = set()
        self.frames = {}

    async def ask(self, data):
        await self.hub.send({"type": "signal", "to": self.sfu, "room": self.room, "data": data})

    async def on_frame(self, frame):
        kind = frame.get("type")
        if kind == "welcome":
            self.me = frame["peer"]
            report("welcome", peer=self.me)
            await self.hub.send({"type": "join", "room": self.room, "meta": {"name": self.name}})
        elif kind == "joined" and frame.get("room") == self.room:
            for p in frame["peers"]:
                await self.found(p)
        elif kind == "peer-joined" and frame.get("room") == self.room:
            await self.found(frame)
        elif kind == "peer-left" and frame.get("peer") == self.sfu:
            report("error", data={"message": "the SFU left"})
            self.sfu = None
        elif kind in ("signal", "broadcast") and frame.get("from") == self.sfu and frame.get("room") == self.room:
            self.inbox.put_nowait(frame["data"])
        elif kind == "left" and frame.get("room") == self.room:
            report("left")
        elif kind == "error":
            report("error", data=frame)

    async def found(self, peer):
        # sfu.md §15.1: find the SFU by `service`, never by `meta`.
        if peer.get("service") == "sfu" and self.sfu is None:
            self.sfu = peer["peer"]
            report("sfu", peer=self.sfu)
            await self.publish()

    async def publish(self):
        # §15.3: one connection, every section with a=mid, candidates gathered before the offer
        # leaves (aiortc's setLocalDescription gathers completely).
        pc = self.publisher = RTCPeerConnection()
        pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
        video = pc.addTransceiver(ColourPattern(), direction="sendonly")
        vp8 = [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType == "video/VP8"]
        video.setCodecPreferences(vp8)
        await pc.setLocalDescription(await pc.createOffer())
        await self.ask({"type": "pinhole:sfu-publish", "sdp": pc.localDescription.sdp})

    async def run(self):
        while True:
            data = await self.inbox.get()
            try:
                await self.handle(data)
            except Exception as err:  # report, and go on with the next signal
                report("error", data={"message": repr(err), "handling": data.get("type")})

    async def handle(self, data):
        kind = data.get("type")
        if kind == "pinhole:sfu-answer":
            await self.publisher.setRemoteDescription(RTCSessionDescription(sdp=data["sdp"], type="answer"))
            report("published", state=self.publisher.connectionState)
        elif kind == "pinhole:sfu-tracks":
            publisher = data["publisher"]
            if publisher == self.me:
                return
            if data["tracks"] and publisher not in self.subscribed:
                self.subscribed.add(publisher)
                await self.ask({"type": "pinhole:sfu-subscribe", "publisher": publisher})
            elif not data["tracks"]:
                self.subscribed.discard(publisher)
        elif kind == "pinhole:sfu-offer":
            await self.answer(data)
        elif kind == "pinhole:sfu-candidates":
            for c in data["candidates"]:
                candidate = candidate_from_sdp(c["candidate"].split(":", 1)[1])
                candidate.sdpMid = c["sdpMid"]
                await self.subscriber.addIceCandidate(candidate)
        elif kind == "pinhole:sfu-error":
            report("error", data=data)
            if data.get("code") == "closed" and "request" not in data and "publisher" not in data:
                # §15.4 "Lifetime": the session ended; subscribe again to each publisher.
                await self.subscriber.close()
                self.subscriber = None
                for publisher in self.subscribed:
                    await self.ask({"type": "pinhole:sfu-subscribe", "publisher": publisher})

    async def answer(self, offer):
        if self.subscriber is None:
            self.subscriber = RTCPeerConnection()
            self.subscriber_connections += 1
            pc = self.subscriber

            @pc.on("track")
            def on_track(track):
                asyncio.ensure_future(self.consume(pc, track))

        self.mapping = {t["mid"]: t for t in offer["tracks"]}
        await self.subscriber.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type="offer"))
        await self.subscriber.setLocalDescription(await self.subscriber.createAnswer())
        await self.ask({"type": "pinhole:sfu-answer", "sdp": self.subscriber.localDescription.sdp})
        self.offers += 1
        report("offer", n=self.offers, tracks=offer["tracks"])

    async def consume(self, pc, track):
        transceiver = next(t for t in pc.getTransceivers() if t.receiver.track is track)
        while True:
            try:
                await track.recv()
            except MediaStreamError:
                return
            entry = self.mapping.get(transceiver.mid)  # §15.4: map by MID with the latest offer
            if entry:
                counts = self.frames.setdefault(entry["publisher"], {"video": 0, "audio": 0})
                counts[entry["kind"]] += 1

    async def packets(self):
        """RTP packets received, by MID of the subscriber connection (inbound-rtp stats)."""
        counts = {}
        for t in self.subscriber.getTransceivers() if self.subscriber else []:
            for s in (await t.receiver.getStats()).values():
                if s.type == "inbound-rtp":
                    counts[t.mid] = counts.get(t.mid, 0) + s.packetsReceived
        return counts

    async def stats(self):
        while True:
            await asyncio.sleep(0.5)
            report("stats", frames=self.frames, packets=await self.packets(),
                   subscriberConnections=self.subscriber_connections,
                   offers=self.offers,
                   publish=self.publisher.connectionState if self.publisher else None,
                   subscribe=self.subscriber.connectionState if self.subscriber else None)


async def commands(client):
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        if json.loads(line).get("leave"):
            await client.hub.send({"type": "leave", "room": client.room})


async def main():
    if os.environ.get("AIORTC_SFU_DEBUG"):
        logging.basicConfig(level=logging.DEBUG)
    parser = argparse.ArgumentParser()
    parser.add_argument("hub")
    parser.add_argument("room")
    parser.add_argument("--name", default="aiortc")
    parser.add_argument("--token")
    args = parser.parse_args()
    async with websockets.connect(args.hub, max_size=None) as ws:
        hub = Hub(ws)
        hello = {"type": "hello"}
        if args.token:
            hello["token"] = args.token
        await ws.send(json.dumps(hello))  # hub.md §3.2: hello carries no id
        client = Client(hub, args.room, args.name)
        tasks = [asyncio.ensure_future(client.run()), asyncio.ensure_future(client.stats()),
                 asyncio.ensure_future(commands(client))]
        try:
            async for frame in hub.frames():
                await client.on_frame(frame)
        finally:
            for t in tasks:
                t.cancel()


if __name__ == "__main__":
    asyncio.run(main())

#!/usr/bin/python3
"""A WHIP publisher on GStreamer's webrtcbin (Debian: python3-gi, gir1.2-gst-plugins-bad-1.0,
gstreamer1.0-nice, the good/bad plugins): a VP8 test pattern and Opus noise, offered to a WHIP
endpoint (RFC 9725), candidates trickled with PATCH (RFC 8840 fragments) as webrtcbin finds
them, the session DELETEd on SIGINT or SIGTERM. The WebRTC side (ICE, DTLS, SRTP, RTP) is all
GStreamer's; this script only speaks the HTTP. Python's urllib does the HTTP: Debian's
simple-whip-client cannot run on bookworm (its libsoup2 and libnice's libsoup3 abort the
process when both load).

usage: whip_publish.py ENDPOINT_URL BEARER_TOKEN
Prints one line per step ("POST 201 /v1/resources/…", "PATCH 204", "ice-connection-state …",
"DELETE 200") so a test can follow it.
"""
import signal
import sys
import urllib.error
import urllib.parse
import urllib.request

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

PIPELINE = (
    "webrtcbin name=send bundle-policy=max-bundle "
    "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=15/1 "
    "! videoconvert ! queue ! vp8enc deadline=1 keyframe-max-dist=30 ! rtpvp8pay pt=96 "
    "! application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload=96 ! send. "
    "audiotestsrc is-live=true wave=red-noise ! audioconvert ! audioresample ! queue ! opusenc "
    "! rtpopuspay pt=111 ! application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload=111 ! send."
)


def say(line):
    print(line, flush=True)


class Publisher:
    def __init__(self, endpoint, token):
        self.endpoint = endpoint
        self.token = token
        self.location = None
        self.etag = None
        self.offer = None
        self.pending = []  # candidates found before the POST's answer
        self.loop = GLib.MainLoop()
        self.pipe = Gst.parse_launch(PIPELINE)
        self.webrtc = self.pipe.get_by_name("send")
        self.webrtc.connect("on-negotiation-needed", self.on_negotiation_needed)
        self.webrtc.connect("on-ice-candidate", lambda _w, index, cand: GLib.idle_add(self.on_candidate, index, cand))
        self.webrtc.connect("notify::ice-connection-state", self.on_state)
        bus = self.pipe.get_bus()
        bus.add_signal_watch()
        bus.connect("message::error", self.on_error)

    def http(self, method, url, body=None, content_type=None, headers=None):
        req = urllib.request.Request(url, data=body.encode() if body is not None else None, method=method)
        req.add_header("Authorization", "Bearer " + self.token)
        if content_type:
            req.add_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=10) as res:
                return res.status, res.headers, res.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.read().decode()
        except urllib.error.URLError as err:
            return 0, {}, str(err.reason)

    def on_negotiation_needed(self, element):
        if self.offer is None:
            self.create_offer()

    def create_offer(self):
        promise = Gst.Promise.new_with_change_func(self.on_offer, self.webrtc, None)
        self.webrtc.emit("create-offer", None, promise)
        return False

    def on_offer(self, promise, element, _):
        promise.wait()
        reply = promise.get_reply()
        offer = reply.get_value("offer")
        if offer is None:
            # Seen once in ~10 runs: webrtcbin refused the first offer while its pads were still
            # being linked. A second try a moment later succeeds.
            say("create-offer failed (%s), trying again" % reply.to_string())
            GLib.timeout_add(200, self.create_offer)
            return
        element.emit("set-local-description", offer, Gst.Promise.new())
        self.offer = offer.sdp.as_text()
        GLib.idle_add(self.post)

    def post(self):
        status, headers, body = self.http("POST", self.endpoint, self.offer, "application/sdp")
        say("POST %d %s" % (status, headers.get("Location") or body.strip()))
        if status != 201:
            self.loop.quit()
            return False
        self.location = urllib.parse.urljoin(self.endpoint, headers["Location"])
        self.etag = headers.get("ETag")
        _, sdp = GstSdp.SDPMessage.new_from_text(body)
        answer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, sdp)
        self.webrtc.emit("set-remote-description", answer, Gst.Promise.new())
        for index, cand in self.pending:
            self.patch(index, cand)
        self.pending = []
        return False

    def fragment(self, index, cand):
        """An RFC 8840 fragment: the session's ICE credentials, then the candidate's media section."""
        lines = self.offer.splitlines()
        ufrag = next(l for l in lines if l.startswith("a=ice-ufrag:"))
        pwd = next(l for l in lines if l.startswith("a=ice-pwd:"))
        media = [i for i, l in enumerate(lines) if l.startswith("m=")]
        start = media[index]
        end = media[index + 1] if index + 1 < len(media) else len(lines)
        m_line = lines[start]
        mid = next(l for l in lines[start:end] if l.startswith("a=mid:"))
        kind = m_line.split(" ")[0]
        return "\r\n".join([ufrag, pwd, kind + " 9 UDP/TLS/RTP/SAVPF 0", mid, "a=" + cand, ""])

    def on_candidate(self, index, cand):
        if not cand:
            return False
        if self.location is None:
            self.pending.append((index, cand))
        else:
            self.patch(index, cand)
        return False

    def patch(self, index, cand):
        headers = {"If-Match": self.etag} if self.etag else {}
        status, _, body = self.http("PATCH", self.location, self.fragment(index, cand), "application/trickle-ice-sdpfrag", headers)
        say("PATCH %d %s" % (status, body.strip()))

    def on_state(self, element, _pspec):
        state = element.get_property("ice-connection-state")
        say("ice-connection-state " + state.value_nick)

    def on_error(self, _bus, message):
        err, debug = message.parse_error()
        say("ERROR %s %s" % (err, debug))
        self.loop.quit()

    def stop(self):
        if self.location:
            status, _, _ = self.http("DELETE", self.location)
            say("DELETE %d" % status)
        self.loop.quit()
        return False

    def run(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, self.stop)
        self.pipe.set_state(Gst.State.PLAYING)
        self.loop.run()
        self.pipe.set_state(Gst.State.NULL)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    Gst.init(None)
    Publisher(sys.argv[1], sys.argv[2]).run()


if __name__ == "__main__":
    main()

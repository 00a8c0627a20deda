"""The HTTP side of a WHIP or WHEP client (RFC 9725, draft-ietf-wish-whep) on GStreamer's
webrtcbin, shared by whip_publish.py and whep_play.py: the offer POSTed as application/sdp,
the answer applied, candidates trickled with PATCH (RFC 8840 fragments) as webrtcbin finds
them, the resource DELETEd on SIGINT or SIGTERM. Python's urllib does the HTTP. Each step is
printed as one line ("POST 201 /v1/resources/…", "PATCH 204", "ice-connection-state …",
"DELETE 200") so a test can follow it.
"""
import signal
import urllib.error
import urllib.parse
import urllib.request

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402


def say(line):
    print(line, flush=True)


class Session:
    """One WHIP or WHEP session of the webrtcbin named `name` in `pipeline`."""

    def __init__(self, endpoint, token, pipeline, name):
        self.endpoint = endpoint
        self.token = token
        self.location = None
        self.etag = None
        self.offer = None
        self.pending = []  # candidates found before the POST's answer
        self.loop = GLib.MainLoop()
        self.pipe = Gst.parse_launch(pipeline)
        if not isinstance(self.pipe, Gst.Pipeline):  # a lone element (a player's webrtcbin) comes back bare
            element, self.pipe = self.pipe, Gst.Pipeline.new(None)
            self.pipe.add(element)
        self.webrtc = self.pipe.get_by_name(name)
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

#!/usr/bin/python3
"""A WHEP player on GStreamer's webrtcbin (Debian: python3-gi, gir1.2-gst-plugins-bad-1.0,
gstreamer1.0-nice, the good/bad plugins): recvonly VP8 video and Opus audio offered to a WHEP
endpoint (draft-ietf-wish-whep: the player offers), what arrives decoded by decodebin into
fakesinks that count it. The HTTP (POST, PATCH trickle, DELETE on SIGINT/SIGTERM) is wish.py's;
ICE, DTLS, SRTP, RTP and the decoders are GStreamer's.

usage: whep_play.py ENDPOINT_URL BEARER_TOKEN
Prints the steps as wish.py does, and once a second while media arrives
`DECODED {"video_frames": n, "width": w, "height": h, "audio_buffers": m}`.
"""
import json
import sys

from wish import GLib, Gst, GstWebRTC, Session, say

CODECS = {
    "video": "application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload=96",
    "audio": "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload=111",
}


class Player(Session):
    def __init__(self, endpoint, token):
        super().__init__(endpoint, token, "webrtcbin name=recv bundle-policy=max-bundle", "recv")
        self.decoded = {"video_frames": 0, "width": 0, "height": 0, "audio_buffers": 0}
        self.told = None
        for caps in CODECS.values():
            self.webrtc.emit("add-transceiver", GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY, Gst.Caps.from_string(caps))
        self.webrtc.connect("pad-added", self.on_rtp_pad)
        GLib.timeout_add(1000, self.tell)

    def on_rtp_pad(self, _element, pad):
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        decode = Gst.ElementFactory.make("decodebin")
        decode.connect("pad-added", self.on_decoded_pad)
        self.pipe.add(decode)
        decode.sync_state_with_parent()
        pad.link(decode.get_static_pad("sink"))

    def on_decoded_pad(self, _decodebin, pad):
        caps = pad.get_current_caps() or pad.query_caps(None)
        video = caps.get_structure(0).get_name().startswith("video/")
        convert = Gst.ElementFactory.make("videoconvert" if video else "audioconvert")
        sink = Gst.ElementFactory.make("fakesink")
        sink.set_property("sync", False)
        sink.set_property("signal-handoffs", True)
        sink.connect("handoff", self.on_video_frame if video else self.on_audio_buffer)
        for element in (convert, sink):
            self.pipe.add(element)
            element.sync_state_with_parent()
        convert.link(sink)
        pad.link(convert.get_static_pad("sink"))

    def on_video_frame(self, _sink, _buffer, pad):
        self.decoded["video_frames"] += 1
        if self.decoded["width"] == 0:
            structure = pad.get_current_caps().get_structure(0)
            self.decoded["width"] = structure.get_value("width")
            self.decoded["height"] = structure.get_value("height")

    def on_audio_buffer(self, _sink, _buffer, _pad):
        self.decoded["audio_buffers"] += 1

    def tell(self):
        if self.decoded != self.told:
            self.told = dict(self.decoded)
            say("DECODED " + json.dumps(self.told))
        return True


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    Gst.init(None)
    Player(sys.argv[1], sys.argv[2]).run()


if __name__ == "__main__":
    main()

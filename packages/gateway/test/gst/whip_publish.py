#!/usr/bin/python3
"""A WHIP publisher on GStreamer's webrtcbin (Debian: python3-gi, gir1.2-gst-plugins-bad-1.0,
gstreamer1.0-nice, the good/bad plugins): a VP8 test pattern and Opus noise, offered to a WHIP
endpoint (RFC 9725); the HTTP (POST, PATCH trickle, DELETE on SIGINT/SIGTERM) is wish.py's.
The WebRTC side (ICE, DTLS, SRTP, RTP) is all GStreamer's. Python's urllib does the HTTP:
Debian's simple-whip-client cannot run on bookworm (its libsoup2 and libnice's libsoup3 abort
the process when both load).

usage: whip_publish.py ENDPOINT_URL BEARER_TOKEN
Prints one line per step ("POST 201 /v1/resources/…", "PATCH 204", "ice-connection-state …",
"DELETE 200") so a test can follow it.
"""
import sys

from wish import Gst, Session

PIPELINE = (
    "webrtcbin name=send bundle-policy=max-bundle "
    "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=15/1 "
    "! videoconvert ! queue ! vp8enc deadline=1 keyframe-max-dist=30 ! rtpvp8pay pt=96 "
    "! application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload=96 ! send. "
    "audiotestsrc is-live=true wave=red-noise ! audioconvert ! audioresample ! queue ! opusenc "
    "! rtpopuspay pt=111 ! application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload=111 ! send."
)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    Gst.init(None)
    Session(sys.argv[1], sys.argv[2], PIPELINE, "send").run()


if __name__ == "__main__":
    main()

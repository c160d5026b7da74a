#!/usr/bin/env python3
"""Builds the seed corpora of the fuzz targets from real inputs of the repository.

seeds/sip/ (committed) holds the RFC 4475/5118 datagrams exactly as runtime/sip/tests/torture.rs
sends them (captured on lo with dumpcap while that test ran) plus the endpoint's answers. This
script derives the others into OUT (default: fuzz/corpus/<target>):
  sip_datagram, sip_stream  <- seeds/sip (stream: chunk-size byte prepended)
  sdp                       <- SDP bodies inside seeds/sip, plus our own offer shape
  rtp_dtmf                  <- PCMU/PCMA/RFC 4733 packets (2-byte length prefix per packet)
  csv_import                <- examples/demo-data/*.csv (kind byte + first 60 lines)
  manifest                  <- the plugin.toml shapes of runtime/packages (tests and scaffold)
"""
import os, struct, sys, glob

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


sip = sorted(glob.glob(os.path.join(HERE, "seeds", "sip", "*")))
for p in sip:
    b = open(p, "rb").read()
    n = os.path.basename(p)
    put("sip_datagram", n, b)
    put("sip_stream", n, bytes([len(b) % 64]) + b)
    i = b.find(b"\r\n\r\n")
    if i >= 0 and b"v=0" in b[i:]:
        body = b[i + 4:]
        j = body.find(b"v=0")
        put("sdp", n, body[j:])
# two messages back to back on a stream (pipelining)
if len(sip) >= 2:
    put("sip_stream", "pipelined", b"\x07" + open(sip[0], "rb").read() + open(sip[1], "rb").read())

put("sdp", "our-offer", (
    "v=0\r\no=courtyard 1 1 IN IP4 127.0.0.1\r\ns=courtyard\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n").encode())
put("sdp", "ipv6-hold", (
    "v=0\r\no=- 2 3 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\nm=audio 0 RTP/AVP 8\r\na=sendonly\r\n").encode())


def rtp(pt, seq, ts, ssrc, payload, marker=False, csrc=(), ext=None, pad=0):
    b0 = 0x80 | (0x20 if pad else 0) | (0x10 if ext is not None else 0) | len(csrc)
    h = struct.pack("!BBHII", b0, (0x80 if marker else 0) | pt, seq, ts, ssrc)
    for c in csrc:
        h += struct.pack("!I", c)
    if ext is not None:
        h += struct.pack("!HH", 0xBEDE, len(ext) // 4) + ext
    body = payload + (b"\0" * (pad - 1) + bytes([pad]) if pad else b"")
    return h + body


def framed(pkts):
    return b"".join(struct.pack("!H", len(p)) + p for p in pkts)


put("rtp_dtmf", "pcmu", framed([rtp(0, 1 + i, 160 * i, 0x1234, b"\xff" * 160, marker=(i == 0)) for i in range(3)]))
put("rtp_dtmf", "pcma-csrc-ext-pad", framed([rtp(8, 7, 0, 9, b"\xd5" * 160, csrc=(1, 2), ext=b"\0" * 8, pad=4)]))
# digit 5: start (marker), continuation, three end packets (RFC 4733 §2.5.1.4)
ev = [rtp(101, 10, 8000, 0x42, struct.pack("!BBH", 5, 10, 160), marker=True),
      rtp(101, 11, 8000, 0x42, struct.pack("!BBH", 5, 10, 320))]
ev += [rtp(101, 12 + i, 8000, 0x42, struct.pack("!BBH", 5, 0x80 | 10, 800)) for i in range(3)]
ev += [rtp(101, 15, 9600, 0x42, struct.pack("!BBH", 11, 0x80 | 10, 400), marker=True)]
put("rtp_dtmf", "rfc4733-5-hash", framed(ev))
put("rtp_dtmf", "sip-info", b"application/dtmf-relay\nSignal=5\r\nDuration=160\r\n")

kinds = ["estates", "units", "owners", "bills", "warranty", "kb", "announcements"]
for k, name in enumerate(kinds):
    p = os.path.join(ROOT, "examples", "demo-data", name + ".csv")
    if os.path.exists(p):
        lines = open(p, "rb").read().split(b"\n")
        put("csv_import", name, bytes([k]) + b"\n".join(lines[:60]))
        try:  # the same rows as GBK, as Chinese spreadsheets export them
            put("csv_import", name + "-gbk", bytes([k]) + b"\n".join(lines[:30]).decode("utf-8").encode("gbk"))
        except (UnicodeDecodeError, UnicodeEncodeError):
            pass

put("manifest", "fixture", b'''name = "bill-lookup"
version = "1.2.0"
vendor = "acme"
description = "Bills and arrears for the caller's unit"
wit = "courtyard:flow@0.1.0"
world = "inbound-flow"
capabilities = ["call", "directory.read", "billing.read", "notify.sms", "log"]
memory-mib = 32
config-schema = \'\'\'{ "type": "object", "properties": { "queue": { "type": "string" } } }\'\'\'
''')
put("manifest", "scaffold-outbound", b'''# Courtyard plugin manifest
name = "arrears-reminder"
version = "0.1.0"
vendor = "courtyard"
description = "An outbound campaign flow"
wit = "courtyard:flow@0.1.0"
world = "outbound-flow"
capabilities = ["call", "log", "kv", "clock", "notify.webhook", "work-orders.write"]
memory-mib = 32
config-schema = \'\'\'
{
  "type": "object",
  "properties": {
    "greeting": { "type": "string", "description": "What the caller hears first" }
  }
}
\'\'\'
''')
print("seeds written to", OUT)

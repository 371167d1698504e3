"""What the lab's aioquic servers share (h3server.py, doq.py): the JSON-lines log, peer
addresses, the negotiated cipher's name, the server's configuration, and serving until
SIGTERM or SIGINT.  Imported from the scripts' own directory."""

import asyncio
import json
import signal

from aioquic.asyncio import serve
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.packet import QuicProtocolVersion

VERSIONS = {"1": QuicProtocolVersion.VERSION_1, "2": QuicProtocolVersion.VERSION_2}

_LOG = None


def open_log(path):
    """Where log() appends its JSON lines."""
    global _LOG
    _LOG = open(path, "a")


def log(rec):
    _LOG.write(json.dumps(rec, sort_keys=True) + "\n")
    _LOG.flush()


def addr_of(a):
    """(host, port) of a peer address, an IPv4-mapped IPv6 address as IPv4."""
    host, port = a[0], a[1]
    if host.startswith("::ffff:"):
        host = host[7:]
    return host, port


def cipher_name(q):
    try:
        return "TLS_" + q.tls.key_schedule.cipher_suite.name
    except AttributeError:
        return None


def server_config(alpn, cert, key, secrets_log, versions):
    """A server's configuration: `versions` is "1,2" (RFC 9000, RFC 9369); the key log is
    appended to when given."""
    cfg = QuicConfiguration(
        alpn_protocols=alpn,
        is_client=False,
        max_datagram_size=1350,
        secrets_log_file=open(secrets_log, "a", buffering=1) if secrets_log else None,
        supported_versions=[VERSIONS[v] for v in versions.split(",")],
    )
    cfg.load_cert_chain(cert, key)
    return cfg


async def serve_until_signalled(listen, port, cfg, protocol):
    """Serves on every address of `listen`, prints "ready", and returns on SIGTERM/SIGINT."""
    servers = [await serve(a, port, configuration=cfg, create_protocol=protocol) for a in listen]
    print("ready", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    await stop.wait()
    for s in servers:
        s.close()
    await asyncio.sleep(0.05)

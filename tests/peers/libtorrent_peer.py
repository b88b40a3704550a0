"""Runs libtorrent (python3-libtorrent) on loopback only, as a seeder or a leecher of one torrent.

Usage: libtorrent_peer.py seed TORRENT DATA_DIR PORT [PEER_HOST PEER_PORT]
       libtorrent_peer.py leech TORRENT SAVE_DIR PORT PEER_HOST PEER_PORT
A leecher's TORRENT may be a magnet link: the metadata is then fetched from PEER.
       libtorrent_peer.py metadata MAGNET SAVE_DIR PORT [PEER_HOST PEER_PORT]
fetches only the metadata (from PEER, or from the link's trackers and x.pe peers), prints
METADATA <seconds from adding the link> and exits 0 (the benchmark's libtorrent figure).
A seeder prints READY once its data is verified and runs until killed.
A leecher connects to PEER, prints DONE once every piece is checked and exits 0
(1 after two minutes without finishing).
It listens on 127.0.0.1 and ::1. PEER_HOST may be an IPv6 address (no brackets).
DHT, local discovery, UPnP, NAT-PMP and uTP are off (see shared/reference/peers.md); peer
exchange (ut_pex) is on, as in libtorrent's defaults. SHOAL_LT_LSD=1 turns local discovery on
(only inside a network namespace with loopback alone); with SHOAL_LT_PEERS=1 it also prints
its LSD log lines (LOG …).
A seeder given PEER downloads from it first (then seeds). SHOAL_LT_UPLOAD_LIMIT=N limits its
upload to N bytes a second. SHOAL_LT_PEERS=1 prints PEER <host:port> <sources> for each peer
once connected (sources: tracker, dht, pex, lsd, given, incoming), for the discovery tests.
"""
import signal
import sys
import time

import os

import libtorrent as lt

mode, torrent_path, data_dir, port = sys.argv[1:5]
# SHOAL_LT_ENCRYPTION=rc4|plaintext: require an encrypted (MSE) handshake both ways,
# offering only RC4 for the payload or only plaintext after the handshake.
encryption = os.environ.get("SHOAL_LT_ENCRYPTION")
encryption_settings = {} if not encryption else {
    "out_enc_policy": 0,  # pe_forced
    "in_enc_policy": 0,
    "allowed_enc_level": 2 if encryption == "rc4" else 1,  # pe_rc4 / pe_plaintext
    "prefer_rc4": encryption == "rc4",
}
# SHOAL_LT_UPLOAD_LIMIT=bytes per second: a slow seeder (its leechers stay leechers for a while).
upload_limit = int(os.environ.get("SHOAL_LT_UPLOAD_LIMIT", "0"))
limit_settings = {} if not upload_limit else {
    "upload_rate_limit": upload_limit,
    "ignore_limits_on_local_network": False,  # Limits apply on loopback only with this.
}
session = lt.session({
    **encryption_settings,
    **limit_settings,
    "listen_interfaces": f"127.0.0.1:{port},[::1]:{port}",
    "enable_dht": False,
    # Local discovery multicasts: only the LSD tests turn it on, inside a loopback-only namespace.
    "enable_lsd": os.environ.get("SHOAL_LT_LSD") == "1",
    "enable_upnp": False,
    "enable_natpmp": False,
    "enable_outgoing_utp": False,
    "enable_incoming_utp": False,
    "allow_multiple_connections_per_ip": True,
    "stop_tracker_timeout": 1,
    # With LSD on, its log says what it hears and whom it adds ("LSD" lines, printed by report()).
    "alert_mask": (lt.alert.category_t.session_log_notification
                   | lt.alert.category_t.torrent_log_notification)
    if os.environ.get("SHOAL_LT_LSD") == "1" else 0,
    "max_metadata_size": 64 * 1024 * 1024,
})
if torrent_path.startswith("magnet:"):
    params = lt.parse_magnet_uri(torrent_path)
else:
    params = lt.add_torrent_params()
    # Large torrents (the benchmark's 10 MiB info dictionary) pass libtorrent's default limits.
    params.ti = lt.torrent_info(torrent_path, {
        "max_buffer_size": 256 * 1024 * 1024,
        "max_decode_tokens": 50_000_000,
        "max_pieces": 0x200000,
    })
params.save_path = data_dir
added_at = time.time()
handle = session.add_torrent(params)
running = True
report_peers = os.environ.get("SHOAL_LT_PEERS") == "1"
reported = set()
# peer_info.source bits (libtorrent 2.0): 32 is an incoming connection, 16 a peer added by hand.
SOURCES = (("tracker", 1), ("dht", 2), ("pex", 4), ("lsd", 8), ("given", 16), ("incoming", 32))


def report():
    """Prints each newly connected peer and where libtorrent heard of it, and its LSD log lines."""
    if not report_peers:
        return
    for alert in session.pop_alerts():
        if "LSD" in alert.message() or "lsd" in alert.message():
            print("LOG", alert.message(), flush=True)
    for info in handle.get_peer_info():
        host, port = info.ip
        key = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        if key in reported:
            continue
        reported.add(key)
        sources = ",".join(name for name, bit in SOURCES if info.source & bit) or str(info.source)
        print("PEER", key, sources, flush=True)


def stop(*_):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)

if mode == "seed":
    # Given PEER, a seeder without its data yet: it downloads from PEER first, and stays.
    source = (sys.argv[5], int(sys.argv[6])) if len(sys.argv) > 6 else None
    ready = False
    while running:
        if not ready and handle.status().is_seeding:
            print("READY", flush=True)
            ready = True
        report()
        if source and not ready and int(time.time() * 10) % 20 == 0 and not handle.get_peer_info():
            handle.connect_peer(source)  # Again now and then: the first may come too early.
        time.sleep(0.1)
    sys.exit(0)

if mode == "metadata":
    if len(sys.argv) > 6:
        handle.connect_peer((sys.argv[5], int(sys.argv[6])))
    deadline = time.time() + 120
    while running and time.time() < deadline:
        if handle.status().has_metadata:
            print("METADATA", f"{time.time() - added_at:.4f}", flush=True)
            sys.exit(0)
        time.sleep(0.002)
    print("NO METADATA", flush=True)
    sys.exit(1)

peer = (sys.argv[5], int(sys.argv[6]))
handle.connect_peer(peer)
deadline = time.time() + 120
while running and time.time() < deadline:
    if handle.status().is_seeding:
        print("DONE", flush=True)
        sys.exit(0)
    report()
    if int(time.time() * 10) % 20 == 0:
        # Dial again now and then, in case the first attempt came too early.
        handle.connect_peer(peer)
    time.sleep(0.1)
print("NOT DONE", handle.status().progress, flush=True)
sys.exit(1)

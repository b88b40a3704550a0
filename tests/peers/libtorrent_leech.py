"""Downloads one torrent with libtorrent (python3-libtorrent) from one peer on loopback.

Usage: libtorrent_leech.py TORRENT SAVE_DIR PORT PEER_HOST PEER_PORT
Prints DONE once every piece is downloaded and checked, then exits 0.
DHT, local discovery, UPnP, NAT-PMP and uTP are off (see shared/reference/peers.md).
"""
import sys
import time

import libtorrent as lt

torrent_path, save_dir, port, peer_host, peer_port = sys.argv[1:6]
session = lt.session({
    "listen_interfaces": f"127.0.0.1:{port}",
    "enable_dht": False,
    "enable_lsd": False,
    "enable_upnp": False,
    "enable_natpmp": False,
    "enable_outgoing_utp": False,
    "enable_incoming_utp": False,
    "allow_multiple_connections_per_ip": True,
    "stop_tracker_timeout": 1,
    "alert_mask": 0,
})
params = lt.add_torrent_params()
params.ti = lt.torrent_info(torrent_path)
params.save_path = save_dir
handle = session.add_torrent(params)
handle.connect_peer((peer_host, int(peer_port)))
deadline = time.time() + 120
while time.time() < deadline:
    status = handle.status()
    if status.is_seeding:
        print("DONE", flush=True)
        sys.exit(0)
    if int(time.time() * 10) % 20 == 0:
        # Reconnect now and then, in case the first attempt came too early.
        handle.connect_peer((peer_host, int(peer_port)))
    time.sleep(0.1)
print("TIMEOUT", status.progress, flush=True)
sys.exit(1)

"""Seeds one torrent with libtorrent (python3-libtorrent) on loopback only.

Usage: libtorrent_seed.py TORRENT DATA_DIR PORT
Prints READY once the data is verified and seeding; runs until killed.
DHT, local discovery, UPnP, NAT-PMP and uTP are off (see shared/reference/peers.md).
"""
import signal
import sys
import time

import libtorrent as lt

torrent_path, data_dir, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
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
params.save_path = data_dir
handle = session.add_torrent(params)
running = True


def stop(*_):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
ready = False
while running:
    status = handle.status()
    if not ready and status.is_seeding:
        print("READY", flush=True)
        ready = True
    time.sleep(0.1)

"""Seeds many torrents from one libtorrent session on loopback (the daemon benchmark's seeders).

Usage: libtorrent_seed_many.py DATA_DIR PORT TORRENT...
Each TORRENT's data is in DATA_DIR. Prints READY once every torrent is seeding, then re-announces
every 5 s (so that daemons that announced after it are told of it and dialled) until killed.
DHT, local discovery, UPnP, NAT-PMP and uTP are off; it listens on 127.0.0.1 only.
"""
import signal
import sys
import time

import libtorrent as lt

data_dir, port, *torrents = sys.argv[1:]
session = lt.session({
    "listen_interfaces": f"127.0.0.1:{port}",
    "enable_dht": False,
    "enable_lsd": False,
    "enable_upnp": False,
    "enable_natpmp": False,
    "enable_outgoing_utp": False,
    "enable_incoming_utp": False,
    "allow_multiple_connections_per_ip": True,
    "active_limit": 10000,
    "active_seeds": 10000,
    "active_tracker_limit": 10000,
    "stop_tracker_timeout": 1,
})
handles = []
for path in torrents:
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(path)
    params.save_path = data_dir
    handles.append(session.add_torrent(params))

running = True


def stop(*_):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
ready = False
last_announce = 0.0
while running:
    if not ready and all(h.status().is_seeding for h in handles):
        print("READY", flush=True)
        ready = True
    if ready and time.time() - last_announce > 5:
        for h in handles:
            h.force_reannounce()
        last_announce = time.time()
    time.sleep(0.2)
session.pause()

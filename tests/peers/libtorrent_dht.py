"""Runs libtorrent (python3-libtorrent) as a DHT node on 127.0.0.1, for the DHT tests.

Run it only inside a network namespace with loopback alone: a DHT node talks to whatever
nodes it hears of.

Usage: libtorrent_dht.py node PORT [BOOTSTRAP]
           a DHT node and nothing else; prints READY, then NODES <n> every second
       libtorrent_dht.py seed TORRENT DATA_DIR PORT BOOTSTRAP
           seeds TORRENT and announces it to the DHT only (no tracker, no peer given);
           prints READY once seeding, ANNOUNCED after each DHT announce
       libtorrent_dht.py leech TORRENT SAVE_DIR PORT BOOTSTRAP
           downloads TORRENT (a magnet link: metadata too) from peers found in the DHT only;
           prints PEER <host:port> <sources> for each peer, DHT REPLY <n> for each DHT
           reply to its lookups (announcing again every 3 s until one brings peers), DONE
           when complete; exits 0 once done and found (1 after two minutes)
       libtorrent_dht.py get-peers INFOHASH PORT BOOTSTRAP
           looks up INFOHASH; prints FOUND <seconds> <queries> <peers…> (exits 1 after 20 s)
BOOTSTRAP is host:port. Many nodes share 127.0.0.1, which libtorrent refuses unless
dht_restrict_routing_ips and dht_restrict_search_ips are off (they are, here). Local
discovery, UPnP, NAT-PMP and uTP are off.
"""
import signal
import sys
import time

import libtorrent as lt

mode = sys.argv[1]
args = sys.argv[2:]
if mode == "node":
    port, bootstrap = args[0], args[1] if len(args) > 1 else ""
elif mode == "get-peers":
    port, bootstrap = args[1], args[2]
else:
    port, bootstrap = args[2], args[3]
session = lt.session({
    "listen_interfaces": f"127.0.0.1:{port}",
    "enable_dht": True,
    "dht_bootstrap_nodes": bootstrap,
    "dht_restrict_routing_ips": False,
    "dht_restrict_search_ips": False,
    "enable_lsd": False,
    "enable_upnp": False,
    "enable_natpmp": False,
    "enable_outgoing_utp": False,
    "enable_incoming_utp": False,
    "allow_multiple_connections_per_ip": True,
    "alert_mask": lt.alert.category_t.dht_notification | lt.alert.category_t.dht_operation_notification
    | lt.alert.category_t.status_notification,
})
running = True


def stop(*_):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)


def nodes():
    session.post_dht_stats()
    deadline = time.time() + 1
    while time.time() < deadline:
        session.wait_for_alert(100)
        for alert in session.pop_alerts():
            if isinstance(alert, lt.dht_stats_alert):
                return sum(bucket["num_nodes"] for bucket in alert.routing_table)
    return -1


if mode == "node":
    print("READY", flush=True)
    while running:
        print("NODES", nodes(), flush=True)
        time.sleep(1)
    sys.exit(0)

if mode == "get-peers":
    info_hash = lt.sha1_hash(bytes.fromhex(args[0]))
    time.sleep(0.5)
    session.pop_alerts()
    counters = lt.find_metric_idx("dht.dht_get_peers_out")
    started = time.time()
    session.dht_get_peers(info_hash)
    while running and time.time() - started < 20:
        session.wait_for_alert(50)
        for alert in session.pop_alerts():
            if isinstance(alert, lt.dht_get_peers_reply_alert) and alert.peers():
                elapsed = time.time() - started
                # An alert is valid only until the next pop_alerts.
                peers = " ".join(f"{host}:{peer_port}" for host, peer_port in alert.peers())
                session.post_session_stats()
                queries = "?"
                deadline = time.time() + 2
                while queries == "?" and time.time() < deadline:
                    session.wait_for_alert(100)
                    for stats in session.pop_alerts():
                        if isinstance(stats, lt.session_stats_alert):
                            queries = stats.values["dht.dht_get_peers_out"] \
                                if isinstance(stats.values, dict) else stats.counters()[counters]
                print("FOUND", f"{elapsed:.4f}", queries, peers, flush=True)
                sys.exit(0)
    print("NOT FOUND", flush=True)
    sys.exit(1)

torrent, data_dir = args[0], args[1]
if torrent.startswith("magnet:"):
    params = lt.parse_magnet_uri(torrent)
else:
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(torrent)
params.save_path = data_dir
handle = session.add_torrent(params)
# peer_info.source bits (libtorrent 2.0).
SOURCES = (("tracker", 1), ("dht", 2), ("pex", 4), ("lsd", 8), ("given", 16), ("incoming", 32))
reported = set()

if mode == "seed":
    ready = False
    announced_at = 0.0
    while running:
        if not ready and handle.status().is_seeding:
            print("READY", flush=True)
            ready = True
        if ready and time.time() - announced_at > 2:
            handle.force_dht_announce()
            announced_at = time.time()
            print("ANNOUNCED", flush=True)
        time.sleep(0.1)
    sys.exit(0)

deadline = time.time() + 120
announced_at = time.time()
found = done = False
while running and time.time() < deadline and not (found and done):
    for alert in session.pop_alerts():
        if isinstance(alert, lt.dht_reply_alert):
            print("DHT REPLY", alert.num_peers, flush=True)
            found = found or alert.num_peers > 0
    if not found and time.time() - announced_at > 3:
        # libtorrent announces at start, before its table has nodes: again until peers come.
        handle.force_dht_announce()
        announced_at = time.time()
    for info in handle.get_peer_info():
        host, peer_port = info.ip
        key = f"{host}:{peer_port}"
        if key not in reported:
            reported.add(key)
            sources = ",".join(name for name, bit in SOURCES if info.source & bit)
            print("PEER", key, sources or str(info.source), flush=True)
    if not done and handle.status().is_seeding:
        print("DONE", flush=True)
        done = True
    time.sleep(0.1)
if not done:
    print("NOT DONE", handle.status().progress, flush=True)
sys.exit(0 if done else 1)

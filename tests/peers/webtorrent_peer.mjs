// Runs WebTorrent on loopback only, as a seeder or a leecher of one torrent.
// Usage: node webtorrent_peer.mjs seed TORRENT DATA_DIR PORT
//        node webtorrent_peer.mjs leech TORRENT SAVE_DIR PORT PEER_HOST:PEER_PORT
//        node webtorrent_peer.mjs dht-leech TORRENT SAVE_DIR PORT BOOTSTRAP_HOST:PORT
// A seeder prints READY once its data is verified and runs until killed; a
// leecher connects to PEER, prints DONE when complete and exits 0. A
// leecher's TORRENT may be a magnet link (the metadata then comes from PEER).
// DHT, local discovery, UPnP, NAT-PMP, PEX and uTP are off: webtorrent-cli
// cannot turn them off, which is why tests use this wrapper
// (shared/reference/peers.md). In dht-leech mode the DHT is on (on
// 127.0.0.1, bootstrapping from BOOTSTRAP only: run it only in a
// loopback-only network namespace) and the peers come from it; each
// connected peer is printed as PEER host:port. Protocol encryption is off for the leecher:
// shoal does not speak MSE/PE yet, and WebTorrent 3 does not fall back.
import fs from "node:fs";
import WebTorrent from "webtorrent";

const [mode, torrentPath, dataDir, port, peer] = process.argv.slice(2);
const leeching = mode === "leech" || mode === "dht-leech";
const client = new WebTorrent({
  dht: mode === "dht-leech" ? { bootstrap: [peer], host: "127.0.0.1" } : false,
  dhtPort: Number(port),
  lsd: false,
  natUpnp: false,
  natPmp: false,
  utPex: false,
  utp: false,
  webSeeds: false,
  secure: leeching ? 0 : 1,
  tracker: leeching ? false : undefined,
  torrentPort: Number(port),
});
const fail = (error) => {
  console.error("ERROR", error.message ?? error);
  process.exit(1);
};
client.on("error", fail);
const source = torrentPath.startsWith("magnet:") ? torrentPath : fs.readFileSync(torrentPath);
const torrent = client.add(source, { path: dataDir });
torrent.on("error", fail);
const stop = () => client.destroy(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

if (mode === "seed") {
  const report = () => {
    if (torrent.done) console.log("READY");
    return torrent.done;
  };
  torrent.on("ready", () => {
    if (!report()) torrent.once("done", report);
  });
} else {
  if (mode === "leech") torrent.on("infoHash", () => torrent.addPeer(peer));
  torrent.on("wire", (_wire, address) => console.log("PEER", address));
  torrent.on("done", () => {
    console.log("DONE");
    stop();
  });
  setTimeout(() => fail(new Error("timed out")), 120_000);
}

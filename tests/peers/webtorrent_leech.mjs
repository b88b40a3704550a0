// Downloads one torrent with WebTorrent from one peer on loopback.
// Usage: node webtorrent_leech.mjs TORRENT SAVE_DIR PORT PEER_HOST:PEER_PORT
// Prints DONE when complete, then exits 0. DHT, local discovery, UPnP,
// NAT-PMP, PEX and uTP are off (shared/reference/peers.md).
import fs from "node:fs";
import WebTorrent from "webtorrent";

const [torrentPath, saveDir, port, peer] = process.argv.slice(2);
const client = new WebTorrent({
  dht: false,
  lsd: false,
  natUpnp: false,
  natPmp: false,
  utPex: false,
  utp: false,
  secure: 0, // plaintext: shoal does not speak protocol encryption (MSE/PE) yet
  webSeeds: false,
  tracker: false,
  torrentPort: Number(port),
});
const fail = (error) => {
  console.error("ERROR", error.message ?? error);
  process.exit(1);
};
client.on("error", fail);
const torrent = client.add(fs.readFileSync(torrentPath), { path: saveDir });
torrent.on("error", fail);
torrent.on("infoHash", () => torrent.addPeer(peer));
torrent.on("done", () => {
  console.log("DONE");
  client.destroy(() => process.exit(0));
});
setTimeout(() => fail(new Error("timed out")), 120_000);

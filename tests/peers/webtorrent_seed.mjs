// Seeds one torrent with WebTorrent on loopback only.
// Usage: node webtorrent_seed.mjs TORRENT DATA_DIR PORT
// Prints READY once the data is verified; runs until killed.
// DHT, local discovery, UPnP, NAT-PMP, PEX and uTP are off: webtorrent-cli cannot
// turn them off, which is why tests use this wrapper (shared/reference/peers.md).
import fs from "node:fs";
import WebTorrent from "webtorrent";

const [torrentPath, dataDir, port] = process.argv.slice(2);
const client = new WebTorrent({
  dht: false,
  lsd: false,
  natUpnp: false,
  natPmp: false,
  utPex: false,
  utp: false,
  webSeeds: false,
  torrentPort: Number(port),
});
client.on("error", (error) => {
  console.error("ERROR", error.message);
  process.exit(1);
});
const torrent = client.add(fs.readFileSync(torrentPath), { path: dataDir });
torrent.on("error", (error) => {
  console.error("ERROR", error.message);
  process.exit(1);
});
const report = () => {
  if (torrent.done) {
    console.log("READY");
    return true;
  }
  return false;
};
torrent.on("ready", () => {
  if (!report()) torrent.once("done", report);
});
const stop = () => client.destroy(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

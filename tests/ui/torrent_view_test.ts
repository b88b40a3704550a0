import { assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { encode } from "../../lib/bencode/mod.ts";
import { parseTorrent } from "../../lib/metainfo/mod.ts";
import { formatTorrent, torrentToJson } from "../../lib/ui/torrent_view.ts";

Deno.test("torrent view: a torrent with 300,000 files renders without overflowing the stack", () => {
  const count = 300_000;
  const files = Array.from({ length: count }, (_, i) => ({ length: 1, path: [`f${i}`] }));
  const torrent = parseTorrent(encode({
    info: {
      name: "m",
      "piece length": 16384,
      pieces: new Uint8Array(Math.ceil(count / 16384) * 20),
      files,
    },
  }));
  const text = formatTorrent(torrent);
  assertStringIncludes(text, "in 300,000 files");
  assertEquals(torrentToJson(torrent).files.length, count);
});

Deno.test("torrent view: the file tree nests folders and aligns sizes", () => {
  const torrent = parseTorrent(encode({
    info: {
      name: "album",
      "piece length": 16384,
      pieces: new Uint8Array(20),
      files: [
        { length: 1536, path: ["disc 1", "track.flac"] },
        { length: 5, path: ["cover.jpg"] },
      ],
    },
  }));
  const tree = formatTorrent(torrent).split("the number download --select takes)\n")[1].split("\n");
  assertEquals(tree, [
    "  album/",
    "    disc 1/",
    "      track.flac     1.5 KiB  1",
    "    cover.jpg            5 B  2",
  ]);
});

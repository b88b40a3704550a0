/**
 * Where BEP 47 symlinks point: the corpus torrents resolved as libtorrent
 * resolves them (its `file_storage::symlink()` on the same files, recorded
 * below), libtorrent's own way of writing targets (from the link's folder),
 * and hostile targets that are refused.
 */
import { parseTorrent, readTorrentFile, resolveSymlinks } from "../../lib/metainfo/mod.ts";
import { MAX_LINK_HOPS, type SymlinkPlan } from "../../lib/metainfo/symlinks.ts";
import { assertEquals } from "../helpers/assert.ts";
import { CONFORMANCE_DIR } from "../helpers/paths.ts";
import { torrentBytes } from "../helpers/torrents.ts";

const tooMany = `its target passes more than ${MAX_LINK_HOPS} links (or goes round in a loop)`;

function summary(plans: SymlinkPlan[]): Record<string, string> {
  return Object.fromEntries(
    plans.map((plan) => [
      plan.file.path.join("/"),
      "refused" in plan
        ? `refused: ${plan.refused}`
        : `${plan.target.join("/")} (${plan.relative})`,
    ]),
  );
}

/** A multi-file torrent named `t` with `files` (a symlink where a target is given). */
function torrentWith(files: [string, string?][]) {
  return parseTorrent(
    torrentBytes({
      name: "t",
      length: undefined,
      files: files.map(([path, target]) =>
        target === undefined
          ? { length: 100, path: path.split("/") }
          : { attr: "l", length: 0, path: path.split("/"), "symlink path": target.split("/") }
      ),
      pieces: new Uint8Array(20),
    }),
    { platform: "linux" },
  );
}

Deno.test("symlinks: the corpus resolves to the targets libtorrent gives", async () => {
  const load = (name: string) =>
    readTorrentFile(`${CONFORMANCE_DIR}/${name}.torrent`, { platform: "linux" });
  assertEquals(summary(resolveSymlinks(await load("symlink1"))), {
    "temp/a/b/foo": "temp/a/b/bar (bar)",
  });
  assertEquals(summary(resolveSymlinks(await load("symlink_zero_size"))), {
    "temp/a/b/foo": "temp/a/b/bar (bar)",
  });
  // Through another link (Versions/Current -> Versions/A), as libtorrent follows it.
  assertEquals(summary(resolveSymlinks(await load("symlink2"))), {
    "Some.framework/SDL2": "Some.framework/Versions/A/SDL2 (Versions/A/SDL2)",
    "Some.framework/Versions/Current": "Some.framework/Versions/A (A)",
  });
  assertEquals(summary(resolveSymlinks(await load("overlapping_symlinks"))), {
    "SDL2.framework/Headers": "SDL2.framework/Versions/A/Headers (Versions/A/Headers)",
    "SDL2.framework/Resources": "SDL2.framework/Versions/A/Resources (Versions/A/Resources)",
    "SDL2.framework/SDL2": "SDL2.framework/Versions/A/SDL2 (Versions/A/SDL2)",
    "SDL2.framework/Versions/Current": "SDL2.framework/Versions/A (A)",
  });
});

Deno.test("symlinks: targets from the torrent's folder (BEP 47) or from the link's (libtorrent), to files and folders", () => {
  const torrent = torrentWith([
    ["sub/target.txt"],
    ["link", "sub/target.txt"],
    // libtorrent's create_torrent writes the link's own target: from its folder.
    ["sub/rel", "../sub/target.txt"],
    ["sub/deeper/up", "../target.txt"],
    ["folder", "sub"],
    ["dangling", "nothing/here"],
    ["self-folder", "."],
  ]);
  assertEquals(summary(resolveSymlinks(torrent)), {
    "t/link": "t/sub/target.txt (sub/target.txt)",
    "t/sub/rel": "t/sub/target.txt (target.txt)",
    "t/sub/deeper/up": "t/sub/target.txt (../target.txt)",
    "t/folder": "t/sub (sub)",
    // BEP 47: a target outside the torrent's files makes a dangling link, inside the folder.
    "t/dangling": "t/nothing/here (nothing/here)",
    "t/self-folder": "t (.)",
  });
});

Deno.test("symlinks: targets that leave the torrent's folder, loops and long chains are refused", () => {
  const escapes = torrentWith([
    ["a/file"],
    ["up", ".."],
    ["passwd", "../../etc/passwd"],
    ["a/deep", "../../x"],
    // Textually inside, but through a link to a/ the `..` go above the folder.
    ["a/link-up", ".."],
    ["through", "a/link-up/../x"],
    ["loop1", "loop2"],
    ["loop2", "loop1"],
    ["onto-bad", "passwd"],
  ]);
  const leaves = "refused: its target leaves the torrent's folder";
  assertEquals(summary(resolveSymlinks(escapes)), {
    "t/up": leaves,
    "t/passwd": leaves,
    "t/a/deep": leaves,
    "t/a/link-up": "t (..)",
    "t/through": leaves,
    "t/loop1": `refused: ${tooMany}`,
    "t/loop2": `refused: ${tooMany}`,
    "t/onto-bad": leaves,
  });
  // A chain longer than the system follows, in both orders: l0 -> end, l1 -> l0, ...
  const chain: [string, string?][] = [];
  for (let i = 0; i <= MAX_LINK_HOPS + 1; i++) chain.push([`l${i}`, i === 0 ? "end" : `l${i - 1}`]);
  for (const files of [[["end"], ...chain], [["end"], ...chain.toReversed()]]) {
    const plans = summary(resolveSymlinks(torrentWith(files as [string, string?][])));
    assertEquals(plans["t/l0"], "t/end (end)");
    assertEquals(plans[`t/l${MAX_LINK_HOPS - 1}`], "t/end (end)");
    assertEquals(
      plans[`t/l${MAX_LINK_HOPS}`],
      `refused: ${tooMany}`,
    );
  }
});

Deno.test("symlinks: a single-file torrent's symlink is refused; absolute targets stay inside", () => {
  const file = torrentWith([["y"], ["x", "y"]]).files[1];
  assertEquals(
    Object.values(summary(resolveSymlinks({ multiFile: false, files: [file] }))),
    ["refused: a single-file torrent has no folder to link in"],
  );
  // "/etc/passwd" as one component: its separators are dropped, so it names a file inside.
  const absolute = parseTorrent(
    torrentBytes({
      name: "t",
      length: undefined,
      files: [
        { length: 100, path: ["y"] },
        { attr: "l", length: 0, path: ["x"], "symlink path": ["/etc/passwd"] },
      ],
      pieces: new Uint8Array(20),
    }),
    { platform: "linux" },
  );
  assertEquals(summary(resolveSymlinks(absolute))["t/x"], "t/etcpasswd (etcpasswd)");
});

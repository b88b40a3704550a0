/**
 * The metadata fetcher's decisions: pieces spread over peers, timeouts and
 * rejects, sizes not believed, and blame: a sole sender of wrong metadata,
 * and, with several senders, the one whose piece differed from the right
 * metadata once it checks out.
 */
import { createHash } from "node:crypto";
import { MetadataFetcher } from "../../lib/metadata/metadata_fetcher.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

const PIECE = 16 * 1024;

function infoOf(size: number): { info: Uint8Array; infoHash: Uint8Array } {
  const info = new Uint8Array(size).map((_, i) => (i * 7) & 0xff);
  return { info, infoHash: new Uint8Array(createHash("sha1").update(info).digest()) };
}

const piece = (info: Uint8Array, index: number) => info.slice(index * PIECE, (index + 1) * PIECE);

Deno.test("metadata fetcher: pieces are spread over peers, a few each, and the whole checks out", () => {
  const { info, infoHash } = infoOf(5 * PIECE + 100);
  const fetcher = new MetadataFetcher({ infoHash, perPeer: 2 });
  assert(fetcher.offer("a", info.length) && fetcher.offer("b", info.length));
  const a = fetcher.next("a");
  const b = fetcher.next("b");
  assertEquals([a, b], [[0, 1], [2, 3]]);
  assertEquals(fetcher.next("a"), [], "two outstanding is the most");
  for (const index of [...a, ...b]) {
    assertEquals(
      fetcher.received(index < 2 ? "a" : "b", index, info.length, piece(info, index)).kind,
      "stored",
    );
  }
  assertEquals(fetcher.progress, { received: 4, total: 6 });
  const rest = fetcher.next("a");
  assertEquals(rest, [4, 5]);
  assertEquals(fetcher.received("a", 4, info.length, piece(info, 4)).kind, "stored");
  const last = fetcher.received("a", 5, info.length, piece(info, 5));
  assertEquals(last.kind, "done");
  if (last.kind === "done") {
    assertEquals(last.metadata, info);
    assertEquals(last.liars, []);
  }
});

Deno.test("metadata fetcher: absurd sizes are not believed; wrong lengths and unasked pieces are refused", () => {
  const { info, infoHash } = infoOf(2 * PIECE);
  const fetcher = new MetadataFetcher({ infoHash, maxSize: 1 << 20 });
  assertEquals([fetcher.offer("x", 0), fetcher.offer("x", (1 << 20) + 1)], [false, false]);
  assert(fetcher.offer("a", info.length));
  assertEquals(fetcher.received("a", 0, info.length, piece(info, 0)).kind, "unasked");
  assertEquals(fetcher.next("a"), [0, 1]);
  assertEquals(fetcher.received("a", 0, info.length, new Uint8Array(10)).kind, "invalid");
  assertEquals(fetcher.received("a", 1, info.length + 1, piece(info, 1)).kind, "invalid");
});

Deno.test("metadata fetcher: a reject or a timeout sends the piece to another peer and rests the first", () => {
  const { info, infoHash } = infoOf(2 * PIECE);
  const fetcher = new MetadataFetcher({
    infoHash,
    perPeer: 1,
    timeoutMs: 1000,
    rejectBackoffMs: 10_000,
  });
  fetcher.offer("a", info.length);
  fetcher.offer("b", info.length);
  assertEquals(fetcher.next("a", 0), [0]);
  fetcher.rejected("a", 0, 0);
  assertEquals(fetcher.next("a", 1), [], "a rests after its reject");
  assertEquals(fetcher.next("b", 1), [0]);
  assertEquals(fetcher.expire(500), []);
  assertEquals(fetcher.expire(2000), ["b"]);
  assertEquals(fetcher.next("b", 2001), [], "b rests after its timeout");
  assertEquals(fetcher.next("a", 10_001), [0]);
});

Deno.test("metadata fetcher: a sole sender of wrong metadata is named; with two senders, the one whose piece was wrong is named once it checks out", () => {
  const { info, infoHash } = infoOf(2 * PIECE);
  const wrong = (index: number) => piece(info, index).map((byte) => byte ^ 1);
  const alone = new MetadataFetcher({ infoHash });
  alone.offer("liar", info.length);
  alone.next("liar");
  alone.received("liar", 0, info.length, wrong(0));
  assertEquals(alone.received("liar", 1, info.length, wrong(1)), {
    kind: "failed",
    liars: ["liar"],
  });
  assertEquals(alone.next("liar"), [], "the liar is not asked again");

  const mixed = new MetadataFetcher({ infoHash, perPeer: 1 });
  mixed.offer("honest", info.length);
  mixed.offer("liar", info.length);
  assertEquals([mixed.next("honest"), mixed.next("liar")], [[0], [1]]);
  mixed.received("honest", 0, info.length, piece(info, 0));
  assertEquals(mixed.received("liar", 1, info.length, wrong(1)), { kind: "failed", liars: [] });
  // Again, each piece from the other peer than before.
  assertEquals([mixed.next("liar"), mixed.next("honest")], [[0], [1]]);
  mixed.received("liar", 0, info.length, piece(info, 0));
  const result = mixed.received("honest", 1, info.length, piece(info, 1));
  assertEquals(result.kind, "done");
  if (result.kind === "done") assertEquals(result.liars, ["liar"]);
});

Deno.test("metadata fetcher: peers announcing another size are asked once no peer of the first size is left", () => {
  const { info, infoHash } = infoOf(PIECE + 5);
  const fetcher = new MetadataFetcher({ infoHash });
  fetcher.offer("liar", 3 * PIECE);
  fetcher.offer("honest", info.length);
  assertEquals(fetcher.next("honest"), [], "another size than the one being fetched");
  assertEquals(fetcher.next("liar"), [0, 1, 2]);
  fetcher.gone("liar");
  assertEquals(fetcher.next("honest"), [0, 1]);
  assertEquals(fetcher.size, info.length);
});

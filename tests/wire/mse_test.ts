/**
 * Message stream encryption (MSE): our dialling side against our answering
 * side and against libtorrent requiring it, both payload methods; hostile
 * or mistaken encrypted handshakes are refused without harm.
 */
import { readTorrentFile } from "../../lib/metainfo/mod.ts";
import type { Torrent } from "../../lib/metainfo/torrent.ts";
import { connectToPeer, type PeerConnection } from "../../lib/wire/connection.ts";
import type { EncryptionPreference } from "../../lib/wire/mse.ts";
import { Rc4 } from "../../lib/wire/_rc4.ts";
import { randomPeerId } from "../../lib/peer_id.ts";
import { Session } from "../../lib/session/session.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { singleFileFixture } from "../helpers/content.ts";
import { startSeeder } from "../helpers/seeders.ts";
import { testWithPrograms, withTempDir } from "../helpers/tools.ts";

/** Asks for block 0 of piece 1 and resolves with it. */
async function fetchOneBlock(connection: PeerConnection, torrent: Torrent): Promise<Uint8Array> {
  let resolve!: (block: Uint8Array) => void;
  const got = new Promise<Uint8Array>((r) => (resolve = r));
  connection.run({
    onMessage(message) {
      if (message.type === "unchoke") {
        connection.send({ type: "request", index: 1, begin: 0, length: 16384 });
      } else if (message.type === "piece") {
        resolve(message.block.slice());
      }
    },
  }, torrent.pieceCount);
  connection.send({ type: "interested" });
  return await got;
}

async function withSeedingSession(
  fn: (session: Session, torrent: Torrent, content: Uint8Array) => Promise<void>,
): Promise<void> {
  await withTempDir(async (dir) => {
    const fixture = await singleFileFixture(dir, 200_000);
    const torrent = await readTorrentFile(fixture.torrent);
    const content = await Deno.readFile(`${fixture.dataDir}/${fixture.files[0].path}`);
    const session = new Session({ port: 0, host: "127.0.0.1" });
    try {
      await session.add(torrent, { downloadDir: fixture.dataDir, seed: true }).done;
      await fn(session, torrent, content);
    } finally {
      await session.close();
    }
  });
}

const OFFERS: [EncryptionPreference[], string][] = [
  [["rc4"], "rc4"],
  [["plaintext"], "handshake"],
  [["plaintext", "rc4"], "handshake"],
];

for (const [offer, expected] of OFFERS) {
  Deno.test(`mse: dialling a shoal seeder offering ${offer.join(" and ")}, blocks arrive intact`, () =>
    withSeedingSession(async (session, torrent, content) => {
      const connection = await connectToPeer({ host: "127.0.0.1", port: session.port }, {
        infoHash: torrent.infoHash,
        peerId: randomPeerId(),
        encrypt: offer,
      });
      try {
        assertEquals(connection.encryption, expected);
        const block = await fetchOneBlock(connection, torrent);
        assertEquals(block, content.subarray(torrent.pieceLength, torrent.pieceLength + 16384));
      } finally {
        connection.close();
      }
    }));
}

for (const method of ["rc4", "plaintext"] as const) {
  testWithPrograms(
    `mse: dialling libtorrent, which requires encryption with ${method} payload`,
    ["python3-libtorrent"],
    () =>
      withTempDir(async (dir) => {
        const fixture = await singleFileFixture(dir, 200_000);
        const torrent = await readTorrentFile(fixture.torrent);
        const content = await Deno.readFile(`${fixture.dataDir}/${fixture.files[0].path}`);
        const seeder = await startSeeder("libtorrent", fixture.torrent, fixture.dataDir, {
          encryption: method,
        });
        try {
          const connection = await connectToPeer({ host: "127.0.0.1", port: seeder.port }, {
            infoHash: torrent.infoHash,
            peerId: randomPeerId(),
            encrypt: ["plaintext", "rc4"],
          });
          try {
            assertEquals(connection.encryption, method === "rc4" ? "rc4" : "handshake");
            const block = await fetchOneBlock(connection, torrent);
            assertEquals(block, content.subarray(torrent.pieceLength, torrent.pieceLength + 16384));
          } finally {
            connection.close();
          }
          // And a plain handshake is refused by it, so the test above did use MSE.
          const plain = await connectToPeer({ host: "127.0.0.1", port: seeder.port }, {
            infoHash: torrent.infoHash,
            peerId: randomPeerId(),
          }).then((c) => (c.close(), "connected"), () => "refused");
          assertEquals(plain, "refused");
        } finally {
          await seeder.stop();
        }
      }),
  );
}

Deno.test("mse: an encrypted handshake for a torrent we do not serve is refused", () =>
  withSeedingSession(async (session) => {
    const outcome = await connectToPeer({ host: "127.0.0.1", port: session.port }, {
      infoHash: new Uint8Array(20).fill(9),
      peerId: randomPeerId(),
      encrypt: ["rc4"],
      timeouts: { handshakeMs: 5000 },
    }).then((c) => (c.close(), "connected"), (error: Error) => error.message);
    assert(outcome !== "connected", outcome);
  }));

Deno.test("mse: random bytes instead of a handshake are dropped once past the sync window", () =>
  withSeedingSession(async (session) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: session.port });
    try {
      const garbage = crypto.getRandomValues(new Uint8Array(1000));
      garbage[0] = 0x42; // not a plain handshake
      await conn.write(garbage);
      // Our key and padding arrive (at most 96 + 512 bytes), then the connection closes.
      let received = 0;
      const buffer = new Uint8Array(4096);
      while (true) {
        const n = await conn.read(buffer).catch(() => null);
        if (n === null) break;
        received += n;
      }
      assert(received >= 96 && received <= 96 + 512, `received ${received} bytes`);
    } finally {
      conn.close();
    }
  }));

Deno.test("rc4: the published test vectors", () => {
  const vectors = [["Key", "Plaintext", "bbf316e8d940af0ad3"], ["Wiki", "pedia", "1021bf0420"]];
  for (const [key, plaintext, expected] of vectors) {
    const encoder = new TextEncoder();
    const out = new Rc4(encoder.encode(key)).apply(encoder.encode(plaintext));
    assertEquals([...out].map((b) => b.toString(16).padStart(2, "0")).join(""), expected);
  }
});

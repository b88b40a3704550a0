/** Write tokens and the store of announced peers: their lifetimes and bounds. */
import { TOKEN_ROTATION_MS, TokenSecrets } from "../../lib/dht/tokens.ts";
import { PEER_TTL_MS, PeerStore } from "../../lib/dht/peer_store.ts";
import { ExternalAddressVotes } from "../../lib/dht/_external_address.ts";
import { assertEquals } from "../helpers/assert.ts";

const NOW = 1_000_000_000;
const hash = (byte: number) => new Uint8Array(20).fill(byte);
const peer = (n: number) => new Uint8Array([10, 0, n >> 8, n & 0xff, 0x1a, 0xe1]);

Deno.test("tokens: accepted from the address and for the torrent they were given for, 5 to 10 minutes", () => {
  const tokens = new TokenSecrets(NOW);
  const token = tokens.issue("10.0.0.2", hash(1), NOW);
  assertEquals(tokens.accepts(token, "10.0.0.2", hash(1), NOW), true);
  assertEquals(tokens.accepts(token, "10.0.0.3", hash(1), NOW), false);
  assertEquals(tokens.accepts(token, "10.0.0.2", hash(2), NOW), false);
  // Still good after one rotation, not after two.
  assertEquals(tokens.accepts(token, "10.0.0.2", hash(1), NOW + TOKEN_ROTATION_MS + 1), true);
  assertEquals(tokens.accepts(token, "10.0.0.2", hash(1), NOW + 2 * TOKEN_ROTATION_MS + 1), false);
  const later = new TokenSecrets(NOW);
  const old = later.issue("10.0.0.2", hash(1), NOW);
  assertEquals(later.accepts(old, "10.0.0.2", hash(1), NOW + 3 * TOKEN_ROTATION_MS), false);
  assertEquals(later.accepts(new Uint8Array(8), "10.0.0.2", hash(1), NOW), false);
});

Deno.test("peer store: peers expire after 30 minutes; per torrent and torrents in all are bounded", () => {
  const store = new PeerStore({ perInfoHash: 5, infoHashes: 3 });
  for (let i = 0; i < 8; i++) store.add(hash(1), peer(i), NOW);
  assertEquals(store.values(hash(1), 4, NOW).length, 5);
  assertEquals(store.values(hash(1), 6, NOW).length, 0);
  store.add(hash(1), peer(1), NOW); // Again: refreshed, not twice.
  assertEquals(store.size, 5);
  for (let i = 2; i <= 4; i++) store.add(hash(i), peer(i), NOW);
  assertEquals(store.infoHashes, 3);
  assertEquals(store.values(hash(1), 4, NOW).length, 0); // The oldest torrent went.
  assertEquals(store.values(hash(4), 4, NOW + PEER_TTL_MS).length, 0);
  store.expire(NOW + PEER_TTL_MS);
  assertEquals([store.size, store.infoHashes], [0, 0]);
});

Deno.test("peer store: a reply names at most 100 IPv4 peers", () => {
  const store = new PeerStore({ perInfoHash: 500 });
  for (let i = 0; i < 300; i++) store.add(hash(1), peer(i), NOW);
  const values = store.values(hash(1), 4, NOW);
  assertEquals(values.length, 100);
  assertEquals(new Set(values.map((v) => v.join())).size, 100);
});

Deno.test("external address: believed once 3 nodes agree, one vote per node", () => {
  const votes = new ExternalAddressVotes();
  assertEquals(votes.vote("a", "1.2.3.4"), undefined);
  assertEquals(votes.vote("a", "1.2.3.4"), undefined);
  assertEquals(votes.vote("a", "1.2.3.4"), undefined);
  assertEquals(votes.vote("b", "1.2.3.4"), undefined);
  assertEquals(votes.vote("c", "1.2.3.4"), "1.2.3.4");
  assertEquals(votes.vote("d", "1.2.3.4"), undefined); // Already believed.
  for (const voter of ["e", "f", "g", "h", "i"]) votes.vote(voter, "5.6.7.8");
  assertEquals(votes.address, "5.6.7.8");
});

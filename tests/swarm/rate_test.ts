/** Rate measurement and the token-bucket limiter, on a fake clock. */
import { RateMeter } from "../../lib/swarm/rate_meter.ts";
import { RateLimiter } from "../../lib/swarm/rate_limiter.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

Deno.test("rate meter: a steady flow reads as its rate, whatever the moment within the second", () => {
  const start = 1_000_000;
  let meter = new RateMeter(5, start);
  for (const offset of [0, 250, 500, 990]) {
    meter = new RateMeter(5, start);
    for (let t = 0; t <= 20_000 + offset; t += 10) meter.add(10_000, start + t); // 1 MB/s
    const rate = meter.rate(start + 20_000 + offset);
    assert(Math.abs(rate - 1_000_000) / 1_000_000 < 0.05, `rate ${rate} at +${offset} ms`);
  }
  assertEquals(meter.rate(start + 60_000), 0);
});

Deno.test("rate limiter: the waits add up to the limit, whoever asks", () => {
  let now = 0;
  const limiter = new RateLimiter(100_000, 10_000, () => now);
  // Two peers take turns asking for 10,000 bytes; each goes on when its wait is over.
  const ready = [0, 0];
  for (let i = 0; i < 100; i++) {
    const peer = i % 2;
    now = Math.max(now, ready[peer]);
    ready[peer] = now + limiter.reserve(10_000);
  }
  const end = Math.max(...ready);
  // 1,000,000 bytes at 100,000 B/s, the first 10,000 from the full bucket: 9.9 s.
  assert(Math.abs(end - 9_900) < 1, `took ${end} ms`);
  // After a quiet minute only the burst passes at once.
  now = end + 60_000;
  assertEquals(limiter.reserve(10_000), 0);
  assertEquals(limiter.reserve(10_000), 100);
});

Deno.test("rate limiter: a torrent's limit inside the session's waits for the slower, and either can change", () => {
  let now = 0;
  const session = new RateLimiter(Infinity, 10_000, () => now);
  const torrent = new RateLimiter(Infinity, 10_000, () => now, session);
  // No limit anywhere: nothing waits.
  for (let i = 0; i < 100; i++) assertEquals(torrent.reserve(10_000), 0);
  torrent.rate = 100_000;
  assertEquals(torrent.reserve(10_000), 0); // The full bucket at the new rate.
  assertEquals(torrent.reserve(10_000), 100);
  // The session's 50,000 B/s is slower: its wait is the one that counts.
  session.rate = 50_000;
  now += 1000;
  assertEquals(torrent.reserve(10_000), 0);
  assertEquals(torrent.reserve(10_000), 200);
  torrent.rate = Infinity;
  session.rate = Infinity;
  assertEquals(torrent.reserve(1_000_000), 0);
});

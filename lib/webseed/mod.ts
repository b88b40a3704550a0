/**
 * Web seeds (BEP 19, `url-list`): HTTP servers that have a torrent's files,
 * used as download sources beside the peers. {@linkcode WebSeed} claims runs
 * of pieces through a {@linkcode WebSeedHost} (the swarm is one) and asks
 * for them with `Range` requests; {@linkcode webSeedFileUrl} says where
 * each file is; {@linkcode fetchRange} makes one request.
 *
 * @module
 */

export * from "./web_seed.ts";
export * from "./url.ts";
export * from "./http_range.ts";

/**
 * Real bytes captured on loopback (2026-12-02) from the programs the interop
 * tests run, kept as base64 so the fuzz seeds need no network and no
 * program: what trackers answered to announces and scrapes, and what
 * seeders sent after our handshake (their handshake, extension handshake,
 * have-all, unchoke, allowed-fast, a 300-byte piece, a reject).
 *
 * @module
 */

function base64(...parts: string[]): Uint8Array {
  return Uint8Array.from(atob(parts.join("")), (c) => c.charCodeAt(0));
}

/**
 * Reply bodies and packets from opentracker (Debian) and bittorrent-tracker
 * (npm), for the info hash {@linkcode CAPTURE_TRACKER_INFO_HASH}: HTTP
 * announces with compact and dictionary peers, scrapes (bittorrent-tracker
 * sends the hash as UTF-8 text, 29 bytes), a failure reason and the page
 * opentracker sends for a request it refuses; UDP connect, announce, scrape
 * and error packets.
 */
export const TRACKER_CAPTURES: Record<string, Uint8Array> = {
  opentrackerHttpAnnounce1: base64(
    "ZDg6Y29tcGxldGVpMGUxMDpkb3dubG9hZGVkaTBlMTA6aW5jb21wbGV0ZWkxZTg6aW50ZXJ2YWxpMTc3OWUxMjpt",
    "aW4gaW50ZXJ2YWxpODg5ZTU6cGVlcnM2On8AAAEa4WU=",
  ),
  opentrackerHttpAnnounce3: base64(
    "ZDg6Y29tcGxldGVpMWUxMDpkb3dubG9hZGVkaTBlMTA6aW5jb21wbGV0ZWkyZTg6aW50ZXJ2YWxpMTkzMWUxMjpt",
    "aW4gaW50ZXJ2YWxpOTY1ZTU6cGVlcnMxODp/AAABGuF/AAABGuJ/AAABGuNl",
  ),
  opentrackerHttpInvalid: base64("PHRpdGxlPkludmFsaWQgUmVxdWVzdDwvdGl0bGU+Cg=="),
  opentrackerHttpScrape: base64(
    "ZDU6ZmlsZXNkMjA6CzBVep/E6Q4zWH2ix+wRNluApcpkODpjb21wbGV0ZWkxZTEwOmRvd25sb2FkZWRpMGUxMDpp",
    "bmNvbXBsZXRlaTJlZWVl",
  ),
  opentrackerHttpFailure: base64(
    "ZDE0OmZhaWx1cmUgcmVhc29uNjM6UmVxdWVzdGVkIGRvd25sb2FkIGlzIG5vdCBhdXRob3JpemVkIGZvciB1c2Ug",
    "d2l0aCB0aGlzIHRyYWNrZXIuZQ==",
  ),
  opentrackerUdpConnect: base64("AAAAAAAAEjSQeteIn/0mRQ=="),
  opentrackerUdpAnnounce: base64("AAAAAQAAIiIAAAZ9AAAAAwAAAAF/AAABGuF/AAABGuJ/AAABG1l/AAABGuM="),
  opentrackerUdpScrape: base64("AAAAAgAAMzMAAAABAAAAAAAAAAM="),
  opentrackerUdpError: base64("AAAAAwAARERDb25uZWN0aW9uIElEIG1pc3NtYXRjaC4A"),
  bittorrentTrackerHttpAnnounce3: base64(
    "ZDg6Y29tcGxldGVpMWUxMDppbmNvbXBsZXRlaTJlODppbnRlcnZhbGk2MDBlNTpwZWVyczE4On8AAAEa438AAAEa",
    "4X8AAAEa4jY6cGVlcnM2MDpl",
  ),
  bittorrentTrackerHttpDictionaryPeers: base64(
    "ZDg6Y29tcGxldGVpMWUxMDppbmNvbXBsZXRlaTNlODppbnRlcnZhbGk2MDBlNTpwZWVyc2xkMjppcDk6MTI3LjAu",
    "MC4xNzpwZWVyIGlkMjA6LVhYMDAwMS0yMjIyMjIyMjIyMjI0OnBvcnRpNjg4MmVlZDI6aXA5OjEyNy4wLjAuMTc6",
    "cGVlciBpZDIwOi1YWDAwMDEtMzMzMzMzMzMzMzMzNDpwb3J0aTY4ODNlZWQyOmlwOToxMjcuMC4wLjE3OnBlZXIg",
    "aWQyMDotWFgwMDAxLTExMTExMTExMTExMTQ6cG9ydGk2ODgxZWVkMjppcDk6MTI3LjAuMC4xNzpwZWVyIGlkMjA6",
    "LVhYMDAwMS00NDQ0NDQ0NDQ0NDQ0OnBvcnRpNjg4NGVlZWU=",
  ),
  bittorrentTrackerHttpScrape: base64(
    "ZDU6ZmlsZXNkMjk6CzBVesKfw4TDqQ4zWH3CosOHw6wRNlvCgMKlw4pkODpjb21wbGV0ZWkxZTEwOmRvd25sb2Fk",
    "ZWRpMWUxMDppbmNvbXBsZXRlaTNlZWU1OmZsYWdzZDIwOm1pbl9yZXF1ZXN0X2ludGVydmFsaTYwMGVlZQ==",
  ),
  bittorrentTrackerUdpConnect: base64("AAAAAAAAEjQAAAQXJxAZgA=="),
  bittorrentTrackerUdpAnnounce: base64(
    "AAAAAQAAIiIAAAJYAAAABAAAAAF/AAABGuR/AAABGuJ/AAABGuF/AAABG1l/AAABGuM=",
  ),
  bittorrentTrackerUdpScrape: base64("AAAAAgAAMzMAAAABAAAAAQAAAAQ="),
};

/** The info hash the tracker captures announce. */
export const CAPTURE_TRACKER_INFO_HASH: Uint8Array = Uint8Array.from(
  { length: 20 },
  (_, i) => (i * 37 + 11) & 0xff,
);

/**
 * What each seeder sent on a connection to it: the handshake, then the
 * message stream. The torrent is tests/helpers/content.ts's single-file
 * fixture (62 pieces, info hash {@linkcode CAPTURE_PEER_INFO_HASH}); we sent
 * our handshake, extension handshake and `interested`, then a request for
 * 300 bytes of piece 61. aria2 answered with its handshake only.
 */
export const PEER_CAPTURES: Record<
  "aria2" | "transmission" | "libtorrent" | "webtorrent",
  Uint8Array
> = {
  aria2: base64(
    "E0JpdFRvcnJlbnQgcHJvdG9jb2wAAAAAABAABIP1Sbj9LiuihYsZq8Q/NvyZnaeUQTItMS0zNi0wLWGzqq7c/Fqe",
    "1do=",
  ),
  transmission: base64(
    "E0JpdFRvcnJlbnQgcHJvdG9jb2wAAAAAABAABIP1Sbj9LiuihYsZq8Q/NvyZnaeULVRSMzAwMC1rbGw4bmhjb2F2",
    "NHAAAABzFABkMTplaTFlMTptZDExOnV0X21ldGFkYXRhaTNlZTEzOm1ldGFkYXRhX3NpemVpMTMxM2UxOnBpMzA4",
    "OTVlNDpyZXFxaTUxMmUxMTp1cGxvYWRfb25seWkxZTE6djE3OlRyYW5zbWlzc2lvbiAzLjAwZQAAAAEO",
  ),
  libtorrent: base64(
    "E0JpdFRvcnJlbnQgcHJvdG9jb2wAAAAAABAABYP1Sbj9LiuihYsZq8Q/NvyZnaeULUxUMjA4MC1sWX5KdGJlX05J",
    "VXEAAADVFABkMTI6Y29tcGxldGVfYWdvaS0xZTE6bWQxMTpsdF9kb250aGF2ZWk3ZTEwOnNoYXJlX21vZGVpOGUx",
    "MTp1cGxvYWRfb25seWkzZTEyOnV0X2hvbGVwdW5jaGk0ZTExOnV0X21ldGFkYXRhaTJlNjp1dF9wZXhpMWVlMTM6",
    "bWV0YWRhdGFfc2l6ZWkxMzEzZTQ6cmVxcWkyMDAwZTExOnVwbG9hZF9vbmx5aTFlMTp2MTg6bGlidG9ycmVudC8y",
    "LjAuOC4wNjp5b3VyaXA0On8AAAFlAAAAAQ4AAAABAQAAAAURAAAALQAAAAURAAAAEAAAAAURAAAACQAAAAURAAAA",
    "EwAAAAURAAAAFgAAAAEBAAABNQcAAAA9AAAAAF8JCdC7Dnt6Eb2F0YCc5nHOIWeeJ9fDum5gYRs6aRJjJoMxTPuW",
    "tHLmROLS9wWTkI8bUDug7xeyv/eKuz9zBtrqP0DhdStXRkHyNW4D5GO0c7svgnFRArzZtWx19JgDI64Eu8OKawkD",
    "53qRn3bUM/95dgFwAWikDQJWbQc9eak3f6x8eism2mFzDBF2QQuZu7KPGw7xQtqunbsJRxTqOimiqY35NG1VPBoV",
    "IfWkGW7/RNsDr221WaEbPoSGNxpDd9wicqvIbVCdRj9wPMDm3+dJeaPY89cUr+JVqHSKtpzdrSp/8/4BlxDuSl+b",
    "GG1pDRDqOcRDTsxaKNHYtMP2DXIORK/BEMNAuXNYjH/AiBOki+kEZBJ4zzl7brxAARlKSUKbOVPvhp7l9RQtDw==",
  ),
  webtorrent: base64(
    "E0JpdFRvcnJlbnQgcHJvdG9jb2wAAAAAABAABIP1Sbj9LiuihYsZq8Q/NvyZnaeULVdXMDMwMC00UzVLM040a09n",
    "NWcAAABBFABkMTptZDExOmx0X2RvbnRoYXZlaTJlMTE6dXRfbWV0YWRhdGFpMWVlMTM6bWV0YWRhdGFfc2l6ZWkx",
    "MzEzZWUAAAABDgAAAA0QAAAAPQAAAAAAAAEs",
  ),
};

/** The info hash of the peer captures' torrent. */
export const CAPTURE_PEER_INFO_HASH: Uint8Array = base64("g/VJuP0uK6KFixmrxD82/Jmdp5Q=");

/** The piece count of the peer captures' torrent. */
export const CAPTURE_PEER_PIECES = 62;

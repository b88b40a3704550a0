/**
 * Limits on untrusted metainfo. A torrent past any of them is refused with a
 * TorrentError naming the limit, so a hostile file cannot exhaust memory.
 *
 * @module
 */

/** Largest `.torrent` file read from disk: 64 MiB. */
export const MAX_TORRENT_FILE_BYTES = 64 * 1024 * 1024;

/** Most pieces a torrent may have: 2^22 (84 MB of piece hashes). */
export const MAX_PIECES = 1 << 22;

/** Most files a torrent may list. */
export const MAX_FILES = 1_000_000;

/** Largest piece length accepted: 512 MiB. */
export const MAX_PIECE_LENGTH = 512 * 1024 * 1024;

/** Longest file or directory name written to disk, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 255;

/** Deepest directory nesting of one file path. */
export const MAX_PATH_DEPTH = 64;

/** How many files may share one name in one folder before the torrent is refused. */
export const MAX_DUPLICATE_NAMES = 100;

/** Longest magnet link accepted, in characters. */
export const MAX_MAGNET_LENGTH = 64 * 1024;

/** Most trackers, web seeds or peers one magnet link may list (each). */
export const MAX_MAGNET_ENTRIES = 500;

/** Most trackers a torrent file's tiers may list together; the rest are dropped with a warning. */
export const MAX_TRACKERS = 500;

/** Most web seeds or HTTP seeds a torrent file may list (each); the rest are dropped with a warning. */
export const MAX_WEB_SEEDS = 500;

/** Longest tracker or web seed URL kept, in characters. */
export const MAX_URL_LENGTH = 2048;

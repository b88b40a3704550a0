/**
 * The one place shoal's version lives. The peer id prefix, `--version` and
 * the `created by` field of new torrents all derive from it.
 *
 * @module
 */

/** shoal's version, semver. */
export const VERSION = "0.1.0";

/** The value written to the `created by` field of torrents shoal makes. */
export const CREATED_BY = `shoal/${VERSION}`;

/**
 * The Azureus-style peer id prefix (`-SH0100-` for 0.1.0): two letters of
 * client id and four characters of version.
 */
export const PEER_ID_PREFIX = `-SH${VERSION.replaceAll(".", "").padEnd(4, "0").slice(0, 4)}-`;

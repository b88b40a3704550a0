/** Locations the tests use. */

/** The repository root. */
export const REPO_ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** `../shared/reference` beside the repository. */
export const REFERENCE_DIR = `${REPO_ROOT}/../shared/reference`;

/** libtorrent's corpus of odd and hostile torrent files. */
export const CONFORMANCE_DIR = `${REFERENCE_DIR}/conformance/libtorrent-test-torrents`;

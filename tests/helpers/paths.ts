/** Locations the tests use. Everything a test reads lives in this repository. */

/** The repository root. */
export const REPO_ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** Test data kept in the repository (each set with its licence notice). */
export const FIXTURES_DIR = `${REPO_ROOT}/tests/fixtures`;

/**
 * libtorrent's corpus of odd and hostile torrent files (BSD licence: `LICENSE`
 * there; what each file must do: `CORPUS.md` there).
 */
export const CONFORMANCE_DIR = `${FIXTURES_DIR}/libtorrent-test-torrents`;

/**
 * How wide text is on a terminal, and cutting it to fit: escape sequences
 * take no room, combining marks none, East Asian wide characters and emoji
 * two columns, everything else one.
 *
 * @module
 */

// deno-lint-ignore no-control-regex
const ESCAPE = /\x1b\[[0-9;?]*[A-Za-z]/y;
const ZERO_WIDTH = /[\p{Mn}\p{Me}\p{Cf}]/u;

/** Columns one code point takes. */
function codePointWidth(codePoint: number, char: string): number {
  if (codePoint < 0x20 || (codePoint >= 0x7f && codePoint < 0xa0)) return 0;
  if (ZERO_WIDTH.test(char)) return 0;
  if (
    (codePoint >= 0x1100 && codePoint <= 0x115f) || // Hangul Jamo
    (codePoint >= 0x2e80 && codePoint <= 0xa4cf && codePoint !== 0x303f) || // CJK … Yi
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) || // Hangul syllables
    (codePoint >= 0xf900 && codePoint <= 0xfaff) || // CJK compatibility ideographs
    (codePoint >= 0xfe30 && codePoint <= 0xfe4f) || // CJK compatibility forms
    (codePoint >= 0xff00 && codePoint <= 0xff60) || // fullwidth forms
    (codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
    (codePoint >= 0x1f300 && codePoint <= 0x1faff) || // emoji and pictographs
    (codePoint >= 0x20000 && codePoint <= 0x3fffd) // CJK extensions
  ) {
    return 2;
  }
  return 1;
}

/** Columns `text` takes on a terminal (escape sequences excluded). */
export function displayWidth(text: string): number {
  let width = 0;
  for (let i = 0; i < text.length;) {
    ESCAPE.lastIndex = i;
    const escape = ESCAPE.exec(text);
    if (escape) {
      i += escape[0].length;
      continue;
    }
    const codePoint = text.codePointAt(i)!;
    const char = String.fromCodePoint(codePoint);
    width += codePointWidth(codePoint, char);
    i += char.length;
  }
  return width;
}

/**
 * `text` cut to at most `columns` columns, ending in `…` when cut. Escape
 * sequences are kept (a colour is reset after a cut).
 */
export function fitToWidth(text: string, columns: number): string {
  if (displayWidth(text) <= columns) return text;
  if (columns <= 0) return "";
  let out = "";
  let width = 0;
  let styled = false;
  for (let i = 0; i < text.length;) {
    ESCAPE.lastIndex = i;
    const escape = ESCAPE.exec(text);
    if (escape) {
      out += escape[0];
      styled = escape[0] !== "\x1b[0m";
      i += escape[0].length;
      continue;
    }
    const codePoint = text.codePointAt(i)!;
    const char = String.fromCodePoint(codePoint);
    const w = codePointWidth(codePoint, char);
    if (width + w > columns - 1) break;
    out += char;
    width += w;
    i += char.length;
  }
  return out + "…" + (styled ? "\x1b[0m" : "");
}

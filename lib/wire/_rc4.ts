/**
 * RC4, the stream cipher of BitTorrent's message stream encryption. It is
 * weak and only there for interoperability: MSE is obfuscation, not
 * secrecy. The runtime's `node:crypto` has no RC4 (OpenSSL 3 dropped it),
 * so it is written out here.
 *
 * @module
 */

/** One direction of an RC4 stream. */
export class Rc4 {
  readonly #state = new Uint8Array(256);
  #i = 0;
  #j = 0;

  /**
   * Sets up the keystream.
   *
   * @param key The key (MSE uses 20 bytes).
   * @param drop Keystream bytes to throw away first (MSE drops 1024).
   */
  constructor(key: Uint8Array, drop = 0) {
    const s = this.#state;
    for (let i = 0; i < 256; i++) s[i] = i;
    let j = 0;
    for (let i = 0; i < 256; i++) {
      j = (j + s[i] + key[i % key.length]) & 0xff;
      const t = s[i];
      s[i] = s[j];
      s[j] = t;
    }
    if (drop > 0) this.apply(new Uint8Array(drop));
  }

  /** Encrypts or decrypts `data` in place (the same operation) and returns it. */
  apply(data: Uint8Array): Uint8Array {
    const s = this.#state;
    let i = this.#i;
    let j = this.#j;
    for (let n = 0; n < data.length; n++) {
      i = (i + 1) & 0xff;
      const si = s[i];
      j = (j + si) & 0xff;
      const sj = s[j];
      s[i] = sj;
      s[j] = si;
      data[n] ^= s[(si + sj) & 0xff];
    }
    this.#i = i;
    this.#j = j;
    return data;
  }
}

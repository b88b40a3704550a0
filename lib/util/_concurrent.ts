/**
 * Running an async function over a list with a bounded number at once
 * (reading many small files without opening them all together).
 *
 * @module
 */

/**
 * `fn` over `items`, at most `limit` at a time; the results in the items'
 * order. A rejection rejects the whole (catch inside `fn` to keep going).
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

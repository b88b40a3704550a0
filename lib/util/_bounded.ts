/**
 * Bounded memories, oldest first: the maps and sets that remember peers,
 * hosts or requests, where a new entry pushes the oldest out.
 *
 * @module
 */

/** Sets `key` as the newest entry of `map`; the oldest go while there are more than `max`. */
export function setNewest<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) map.delete(map.keys().next().value!);
}

/** Adds `value` as the newest entry of `set`; the oldest go while there are more than `max`. */
export function addNewest<T>(set: Set<T>, value: T, max: number): void {
  set.delete(value);
  set.add(value);
  while (set.size > max) set.delete(set.values().next().value!);
}

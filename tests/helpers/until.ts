/** Waiting in tests for something another task or process brings about. */

/**
 * Polls `condition` (which may ask asynchronously) until it holds.
 *
 * @param condition What is awaited.
 * @param what What is awaited, for the error (a function: said as things are when time runs out).
 * @param limitMs How long before the test fails. Default 30 s.
 * @throws {Error} "Timed out waiting: …" after `limitMs`.
 */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string | (() => string) = "a condition",
  limitMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  // A condition that asks another process (a promise) is polled less often.
  let result = condition();
  const pause = result instanceof Promise ? 250 : 10;
  while (!(await result)) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting: ${typeof what === "string" ? what : what()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
    result = condition();
  }
}

/**
 * Assertions for the tests (the Deno std assert module lives on JSR, which
 * our machines cannot reach, so these small equivalents are ours).
 *
 * @module
 */

import { isDeepStrictEqual } from "node:util";

/** Thrown when an assertion fails. */
export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

function show(value: unknown): string {
  return Deno.inspect(value, { depth: 6, iterableLimit: 50, strAbbreviateSize: 200 });
}

/** Asserts that the condition is truthy. */
export function assert(condition: unknown, message = "Assertion failed"): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** Asserts deep equality (typed arrays by content, maps by entries). */
export function assertEquals<T>(actual: unknown, expected: T, message?: string): void {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new AssertionError(
      `${message ? message + "\n" : ""}Values are not equal.\n  actual:   ${
        show(actual)
      }\n  expected: ${show(expected)}`,
    );
  }
}

/** Asserts deep inequality. */
export function assertNotEquals(actual: unknown, expected: unknown, message?: string): void {
  if (isDeepStrictEqual(actual, expected)) {
    throw new AssertionError(message ?? `Values are equal: ${show(actual)}`);
  }
}

/** Asserts the value is an instance of the class. */
export function assertInstanceOf<T>(
  value: unknown,
  type: abstract new (...args: never[]) => T,
  message?: string,
): asserts value is T {
  if (!(value instanceof type)) {
    throw new AssertionError(message ?? `Expected an instance of ${type.name}, got ${show(value)}`);
  }
}

/** Asserts the text contains the fragment. */
export function assertStringIncludes(text: string, fragment: string, message?: string): void {
  if (!text.includes(fragment)) {
    throw new AssertionError(message ?? `Expected ${show(text)} to include ${show(fragment)}`);
  }
}

/** Asserts the regular expression matches the text. */
export function assertMatch(text: string, pattern: RegExp, message?: string): void {
  if (!pattern.test(text)) {
    throw new AssertionError(message ?? `Expected ${show(text)} to match ${pattern}`);
  }
}

function checkError<E extends Error>(
  error: unknown,
  type: abstract new (...args: never[]) => E,
  fragment?: string,
): E {
  if (!(error instanceof type)) {
    throw new AssertionError(`Expected ${type.name} to be thrown, got ${show(error)}`);
  }
  if (fragment !== undefined && !error.message.includes(fragment)) {
    throw new AssertionError(`Expected the message "${error.message}" to include "${fragment}"`);
  }
  return error;
}

/** Asserts the function throws an error of the type, whose message includes the fragment. */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  type: abstract new (...args: never[]) => E,
  fragment?: string,
): E {
  try {
    fn();
  } catch (error) {
    return checkError(error, type, fragment);
  }
  throw new AssertionError(`Expected ${type.name} to be thrown, but nothing was thrown`);
}

/** Asserts the promise rejects with an error of the type, whose message includes the fragment. */
export async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  type: abstract new (...args: never[]) => E,
  fragment?: string,
): Promise<E> {
  try {
    await fn();
  } catch (error) {
    return checkError(error, type, fragment);
  }
  throw new AssertionError(`Expected ${type.name} to be rejected, but the promise resolved`);
}

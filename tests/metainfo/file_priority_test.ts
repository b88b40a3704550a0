/** File priorities: file numbers as `--select` takes them, BEP 53 `so`, piece priorities. */
import {
  FileSelectionError,
  parseFileNumbers,
  prioritiesFromSelectOnly,
} from "../../lib/metainfo/file_priority.ts";
import { ExitCode } from "../../lib/errors.ts";
import { assertEquals, assertThrows } from "../helpers/assert.ts";

Deno.test("file numbers: 1-based lists and ranges become sorted 0-based indices; bad ones say why", () => {
  assertEquals(parseFileNumbers("1,3-5, 3", 6), [0, 2, 3, 4]);
  assertEquals(parseFileNumbers(" 6 ", 6), [5]);
  for (const bad of ["0", "7", "2-9", "a", "3-1", "", "1,,2"]) {
    const error = assertThrows(() => parseFileNumbers(bad, 6), FileSelectionError);
    assertEquals(error.exitCode, ExitCode.Usage);
  }
  assertThrows(() => parseFileNumbers("7", 6), FileSelectionError, "files 1 to 6");
});

Deno.test("BEP 53: so= ranges (0-based) select files; indices past the last file are ignored", () => {
  assertEquals(prioritiesFromSelectOnly(5, [{ start: 0, end: 0 }, { start: 2, end: 9 }]), [
    "normal",
    "skip",
    "normal",
    "normal",
    "normal",
  ]);
  assertEquals(prioritiesFromSelectOnly(2, [{ start: 4, end: 4 }]), ["skip", "skip"]);
});

/**
 * Atomic writes make their folder once and remember it; a folder removed
 * since is made again, and a failed write leaves no temporary file.
 */
import { assertEquals, assertRejects } from "../helpers/assert.ts";
import { DiskError } from "../../lib/errors.ts";
import { writeAtomically } from "../../lib/storage/_atomic_write.ts";
import { withTempDir } from "../helpers/tools.ts";

Deno.test("writeAtomically makes its folder, and makes it again when it was removed", () =>
  withTempDir(async (dir) => {
    const path = `${dir}/a/b/record.json`;
    await writeAtomically(path, new TextEncoder().encode("one"), "save a record to");
    assertEquals(await Deno.readTextFile(path), "one");
    // Removed under the writer (a user cleaning up): the next write makes it again.
    await Deno.remove(`${dir}/a`, { recursive: true });
    await writeAtomically(path, new TextEncoder().encode("two"), "save a record to");
    assertEquals(await Deno.readTextFile(path), "two");
    await writeAtomically(path, new TextEncoder().encode("three"), "save a record to");
    assertEquals(await Deno.readTextFile(path), "three");
    assertEquals([...Deno.readDirSync(`${dir}/a/b`)].map((e) => e.name), ["record.json"]);
  }));

Deno.test("writeAtomically fails with a DiskError and leaves no temporary file", () =>
  withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/file`, "not a folder");
    await assertRejects(
      () => writeAtomically(`${dir}/file/record.json`, new Uint8Array(1), "save a record to"),
      DiskError,
      "save a record to",
    );
    // A folder where the file should be: the rename fails, the temporary is removed.
    await Deno.mkdir(`${dir}/taken/inside`, { recursive: true });
    await assertRejects(
      () => writeAtomically(`${dir}/taken`, new Uint8Array(1), "save a record to"),
      DiskError,
    );
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["file", "taken"]);
  }));

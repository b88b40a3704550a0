/** The log file: lines in order, rotation at the size limit. */
import { FileLogger } from "../../lib/util/log.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { withTempDir } from "../helpers/tools.ts";

Deno.test("log: lines are appended in order and the file is rotated past its size limit", () =>
  withTempDir(async (dir) => {
    const path = `${dir}/state/shoal.log`;
    const log = new FileLogger(path, { maxFileBytes: 2000 });
    for (let i = 0; i < 100; i++) {
      log.info(`line ${i}`);
      if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await log.close();
    const current = await Deno.readTextFile(path);
    const previous = await Deno.readTextFile(`${path}.1`);
    assert(previous.length > 0 && previous.length < 4000, `rotated file: ${previous.length} bytes`);
    assertMatch(current, / {2}line 99\n$/);
    const numbers = (previous + current).match(/line \d+/g)!.map((l) => Number(l.slice(5)));
    assertEquals(numbers, [...numbers].sort((a, b) => a - b), "in order");
  }));

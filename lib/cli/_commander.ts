/**
 * The command-line parser (commander, from npm). Imported by its full `npm:`
 * specifier, pinned here once, so `cli.ts` also runs from a URL with no
 * import map.
 *
 * @module
 */

export { Command, CommanderError, InvalidArgumentError, Option } from "npm:commander@15.1.0";

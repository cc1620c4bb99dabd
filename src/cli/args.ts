// Small helpers over node:util parseArgs shared by the commands.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in the command line: printed without a stack trace, exit code 2. */
export class UsageError extends Error {}

export type Options = NonNullable<ParseArgsConfig['options']>;

/** The options every GPU command takes. */
export const GPU_OPTIONS = {
  adapter: { type: 'string' },
  backend: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

export const GPU_HELP = [
  '  --adapter NAME   use the adapter whose name contains NAME (env PATT_ADAPTER)',
  '  --backend NAME   Dawn backend: vulkan, metal, d3d12, d3d11, opengl, opengles (env PATT_BACKEND)',
  '  -h, --help       this help',
];

export interface Parsed<T extends Options> {
  values: { [K in keyof T]?: T[K] extends { type: 'boolean' } ? boolean : string };
  positionals: string[];
}

export function parse<T extends Options>(argv: string[], options: T): Parsed<T> {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: true }) as Parsed<T>;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

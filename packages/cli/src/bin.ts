#!/usr/bin/env node
/** The `pinhole` executable. */
import { runCli } from './cli.js';

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
// Everything was closed; if a stray handle still holds the event loop, do not hang forever.
setTimeout(() => process.exit(code), 5_000).unref();

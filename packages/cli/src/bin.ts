#!/usr/bin/env node
/** The `pinhole` executable. */
import { exitWith, runCli } from './cli.js';

exitWith(await runCli(process.argv.slice(2)));

#!/usr/bin/env node
// `npm start`: runs the server from dist/, compiling it first only when the sources changed
// (bin/build-on-demand.mjs: a hash of the sources, a lock, a fresh directory swapped in).
import { runBuilt } from '../bin/build-on-demand.mjs';

await runBuilt('npm start', 'main.js');

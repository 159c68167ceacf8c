#!/usr/bin/env node
// `mcp-fleet serve | client ...`. In a checkout it compiles src/ first when the sources changed.
import { runBuilt } from './build-on-demand.mjs';

await runBuilt('mcp-fleet', 'cli/mcp-fleet.js');

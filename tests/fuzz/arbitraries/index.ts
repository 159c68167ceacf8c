import fc from 'fast-check';
import type { FuzzCase } from '../case.js';
import { httpCase } from './http.js';
import { legacyCase } from './legacy.js';
import { modernCase } from './modern.js';
import { validCase } from './valid.js';

/** One fuzz case: spoiled traffic of either era, plain HTTP oddities, or well-formed traffic of both. */
export const fuzzCase: fc.Arbitrary<FuzzCase> = fc.oneof(
  { weight: 5, arbitrary: legacyCase },
  { weight: 4, arbitrary: modernCase },
  { weight: 2, arbitrary: httpCase },
  { weight: 4, arbitrary: validCase },
);

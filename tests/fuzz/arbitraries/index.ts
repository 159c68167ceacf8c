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

/**
 * One fast-check run: mostly a single case; sometimes a few different ones, or copies of one (the
 * same GET, initialize or retry with the same requestState), sent at once.
 */
export const fuzzRun: fc.Arbitrary<FuzzCase[]> = fc.oneof(
  { weight: 12, arbitrary: fuzzCase.map((c) => [c]) },
  { weight: 1, arbitrary: fc.array(fuzzCase, { minLength: 2, maxLength: 4 }) },
  { weight: 1, arbitrary: fc.tuple(fuzzCase, fc.integer({ min: 2, max: 5 })).map(([c, n]) => Array.from({ length: n }, () => c)) },
);

import fc from 'fast-check';
import type { FuzzCase } from '../case.js';
import { httpCase } from './http.js';
import { legacyCase } from './legacy.js';
import { modernCase } from './modern.js';

/** One fuzz case of either era, or plain HTTP oddities. */
export const fuzzCase: fc.Arbitrary<FuzzCase> = fc.oneof({ weight: 5, arbitrary: legacyCase }, { weight: 4, arbitrary: modernCase }, { weight: 2, arbitrary: httpCase });

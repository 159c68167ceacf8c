import type { Scenario } from './report.js';

export function groupOf(scenario: Scenario): string;
export function roundOrder<T extends Scenario>(scenarios: T[], round: number): T[];

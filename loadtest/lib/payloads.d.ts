/** Types of payloads.js. */
export declare function notifyArguments(message: string, count: number): { message: string; count: number };
export declare function notificationKey(message: unknown): string | undefined;
export declare function expectedNotificationKeys(message: string, count: number): string[];
export declare function toolJson(result: unknown): any;
export declare const TOOL_MIX: Array<{ name: string; args(n: number): Record<string, unknown> }>;
export declare function counterUri(name: string): string;
export declare function samplingAnswer(text: string): { role: 'assistant'; content: { type: 'text'; text: string }; model: string };
export declare function tamperedState(state: string): string;

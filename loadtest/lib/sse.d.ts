/** Types of sse.js. */
export interface SseFrame {
  id: string | undefined;
  event: string | undefined;
  retry: number | undefined;
  data: string;
}
export declare function parseSse(text: string): SseFrame[];
export declare function sseMessages(frames: SseFrame[]): any[];
export declare function lastEventId(frames: SseFrame[]): string | undefined;

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DeliveryKind, DeliveryPath, ServerObserver, RequestFinished, StoreKind, StreamKind } from '../observability/observer.js';
import { DELIVERY_SECONDS_BUCKETS, STORE_COMMAND_COUNT_BUCKETS, STORE_SECONDS_BUCKETS, REQUEST_SECONDS_BUCKETS } from './buckets.js';
import {
  DELIVERY_KIND_LABELS,
  DELIVERY_PATH_LABELS,
  ERA_LABELS,
  INPUT_PHASE_LABELS,
  OTHER,
  OperationFolder,
  TASK_END_REASON_LABELS,
  TASK_LIMIT_LABELS,
  TASK_ORPHAN_OUTCOME_LABELS,
  TASK_STATUS_LABELS,
  STREAM_KIND_LABELS,
  foldMethod,
  foldStatus,
  foldStore,
  foldTo,
} from './labels.js';

export interface PrometheusObserverOptions {
  /** Registry to register on; a new one by default (never prom-client's global registry). */
  registry?: Registry;
  /** Collect prom-client's default process and Node.js metrics (default true). */
  defaultMetrics?: boolean;
  /** Cap on distinct store operation names beyond the known commands (default 64). */
  maxOtherOperations?: number;
}

/** A duration that can be observed: finite, clamped at 0 (clock skew between replicas). */
function seconds(value: number): number | undefined {
  return Number.isFinite(value) ? Math.max(0, value) : undefined;
}

function count(value: number): number | undefined {
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * ServerObserver on prom-client. All metric names start with `mcp_fleet_`; every label value is
 * folded to a bounded set (see labels.ts). Invalid figures (NaN, negative counts) are dropped,
 * never thrown back at the server.
 */
export class PrometheusObserver implements ServerObserver {
  readonly registry: Registry;
  private readonly operations: OperationFolder;

  private readonly requestStoreSeconds: Histogram<'era' | 'method' | 'store'>;
  private readonly requestStoreCommands: Histogram<'era' | 'method' | 'store'>;
  private readonly requestDuration: Histogram<'era' | 'method' | 'status'>;
  private readonly storeCommandSeconds: Histogram<'store' | 'operation'>;
  private readonly storeErrors: Counter<'store' | 'operation'>;
  /** The store label of the command metrics: the backend this replica runs on (storeSelected). */
  private store = OTHER;
  private readonly deliveries: Counter<'kind' | 'path'>;
  private readonly deliveryLatency: Histogram<'kind' | 'path'>;
  private readonly sessionsCreated: Counter;
  private readonly sessionsDeleted: Counter;
  private readonly sessionsExpired: Counter;
  private readonly notFound: Counter;
  private readonly replays: Counter;
  private readonly replayedEvents: Counter;
  private readonly orphaned: Counter;
  private readonly openStreams: Gauge<'kind'>;
  private readonly inputRounds: Counter<'era' | 'phase'>;
  private readonly tasksCreated: Counter;
  private readonly tasksEnded: Counter<'status' | 'reason'>;
  private readonly taskDuration: Histogram<'status'>;
  private readonly tasksOrphaned: Counter<'outcome'>;
  private readonly taskRefusals: Counter<'limit'>;
  private readonly tasksRunningGauge: Gauge;
  private readonly tasksOverdueGauge: Gauge;
  private readonly cachedSessionsGauge: Gauge;
  private readonly sessionCacheTrackingGauge: Gauge;
  private readonly ready: Gauge;

  constructor(options: PrometheusObserverOptions = {}) {
    this.registry = options.registry ?? new Registry();
    const registers = [this.registry];
    this.operations = new OperationFolder(options.maxOtherOperations);
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });

    this.requestStoreSeconds = new Histogram({
      name: 'mcp_fleet_request_store_seconds',
      help: 'Time spent in store commands caused by one MCP HTTP request (sum of their latencies).',
      labelNames: ['era', 'method', 'store'],
      buckets: STORE_SECONDS_BUCKETS,
      registers,
    });
    this.requestStoreCommands = new Histogram({
      name: 'mcp_fleet_request_store_commands',
      help: 'Number of store commands (round trips) caused by one MCP HTTP request.',
      labelNames: ['era', 'method', 'store'],
      buckets: STORE_COMMAND_COUNT_BUCKETS,
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'mcp_fleet_request_duration_seconds',
      help: 'Duration of MCP HTTP requests, from arrival to the end of the response.',
      labelNames: ['era', 'method', 'status'],
      buckets: REQUEST_SECONDS_BUCKETS,
      registers,
    });
    this.storeCommandSeconds = new Histogram({
      name: 'mcp_fleet_store_command_seconds',
      help: 'Latency of each store command or script, failed ones included.',
      labelNames: ['store', 'operation'],
      buckets: STORE_SECONDS_BUCKETS,
      registers,
    });
    this.storeErrors = new Counter({
      name: 'mcp_fleet_store_errors_total',
      help: 'Store commands or scripts that failed (error reply, timeout, lost connection).',
      labelNames: ['store', 'operation'],
      registers,
    });
    this.deliveries = new Counter({
      name: 'mcp_fleet_deliveries_total',
      help: 'Messages delivered to an SSE stream or waiting handler, or fleet events handed to listen streams, locally or through the store.',
      labelNames: ['kind', 'path'],
      registers,
    });
    this.deliveryLatency = new Histogram({
      name: 'mcp_fleet_delivery_latency_seconds',
      help: 'Time from publishing a message or fleet event to writing it to its SSE stream, handler or listeners.',
      labelNames: ['kind', 'path'],
      buckets: DELIVERY_SECONDS_BUCKETS,
      registers,
    });
    this.sessionsCreated = new Counter({
      name: 'mcp_fleet_sessions_created_total',
      help: 'Sessions created (successful initialize) on this replica.',
      registers,
    });
    this.sessionsDeleted = new Counter({
      name: 'mcp_fleet_sessions_deleted_total',
      help: 'Sessions ended by the client (HTTP DELETE) on this replica.',
      registers,
    });
    this.sessionsExpired = new Counter({
      name: 'mcp_fleet_sessions_expired_total',
      help: 'Sessions this replica found expired (idle past their TTL).',
      registers,
    });
    this.notFound = new Counter({
      name: 'mcp_fleet_session_not_found_total',
      help: 'Requests answered 404 because their session id is unknown or expired.',
      registers,
    });
    this.replays = new Counter({
      name: 'mcp_fleet_replays_total',
      help: 'Stream resumptions (Last-Event-ID) served from the event store.',
      registers,
    });
    this.replayedEvents = new Counter({
      name: 'mcp_fleet_replayed_events_total',
      help: 'Events re-sent from the event store on stream resumption.',
      registers,
    });
    this.orphaned = new Counter({
      name: 'mcp_fleet_orphaned_requests_total',
      help: 'Requests whose owner replica died before answering, ended with an error by a resume on this replica.',
      registers,
    });
    this.openStreams = new Gauge({
      name: 'mcp_fleet_open_streams',
      help: 'SSE streams open on this replica (get: standalone GET streams; post: POST responses; listen: subscriptions/listen).',
      labelNames: ['kind'],
      registers,
    });
    this.inputRounds = new Counter({
      name: 'mcp_fleet_input_rounds_total',
      help: 'Multi round-trip requests that asked the client for input (requested) or came back with it (resumed).',
      labelNames: ['era', 'phase'],
      registers,
    });
    this.cachedSessionsGauge = new Gauge({
      name: 'mcp_fleet_cached_sessions',
      help: 'Sessions for which this replica holds a live runtime in its cache.',
      registers,
    });
    this.sessionCacheTrackingGauge = new Gauge({
      name: 'mcp_fleet_session_cache_tracking',
      help: '1 while the store announces session changes to this replica and its session read cache serves; 0 otherwise (every request reads its session).',
      registers,
    });
    this.ready = new Gauge({
      name: 'mcp_fleet_ready',
      help: '1 when this replica reports itself ready to serve (as /readyz), else 0.',
      registers,
    });

    this.tasksCreated = new Counter({ name: 'mcp_fleet_tasks_created_total', help: 'MCP Tasks created on this replica.', registers });
    this.tasksEnded = new Counter({
      name: 'mcp_fleet_tasks_ended_total',
      help: 'MCP Tasks ended by this replica, by terminal status and reason.',
      labelNames: ['status', 'reason'],
      registers,
    });
    this.taskDuration = new Histogram({
      name: 'mcp_fleet_task_duration_seconds',
      help: 'Age of a task when it ended (creation to terminal status), by status.',
      labelNames: ['status'],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600],
      registers,
    });
    this.tasksOrphaned = new Counter({
      name: 'mcp_fleet_tasks_orphaned_total',
      help: 'Tasks whose owner replica died, claimed by this replica: failed, re-run (resumable) or cancelled.',
      labelNames: ['outcome'],
      registers,
    });
    this.taskRefusals = new Counter({
      name: 'mcp_fleet_task_limit_refusals_total',
      help: 'New tasks refused by a limit (active per principal, stored, running per replica).',
      labelNames: ['limit'],
      registers,
    });
    this.tasksRunningGauge = new Gauge({ name: 'mcp_fleet_tasks_running', help: 'Task rounds running on this replica now.', registers });
    this.tasksOverdueGauge = new Gauge({
      name: 'mcp_fleet_tasks_overdue',
      help: "Task rounds still running on this replica past their task's TTL (their handler ignores the abort).",
      registers,
    });

    // Series that dashboards and alerts compare are present from the start, at zero.
    for (const status of TASK_STATUS_LABELS) for (const reason of TASK_END_REASON_LABELS) this.tasksEnded.inc({ status, reason }, 0);
    for (const outcome of TASK_ORPHAN_OUTCOME_LABELS) this.tasksOrphaned.inc({ outcome }, 0);
    for (const limit of TASK_LIMIT_LABELS) this.taskRefusals.inc({ limit }, 0);
    this.tasksRunningGauge.set(0);
    this.tasksOverdueGauge.set(0);
    for (const kind of DELIVERY_KIND_LABELS) {
      for (const path of DELIVERY_PATH_LABELS) this.deliveries.inc({ kind, path }, 0);
    }
    for (const kind of STREAM_KIND_LABELS) this.openStreams.set({ kind }, 0);
    for (const era of ERA_LABELS) {
      for (const phase of INPUT_PHASE_LABELS) this.inputRounds.inc({ era, phase }, 0);
      // the denominator of input rounds per tools/call, and the era comparison
      this.requestDuration.zero({ era, method: 'tools/call', status: '200' });
    }
    for (const path of DELIVERY_PATH_LABELS) this.deliveryLatency.zero({ kind: 'event', path });
  }

  requestFinished(event: RequestFinished): void {
    const era = foldTo(ERA_LABELS, event.era);
    const method = foldMethod(event.method);
    const store = foldStore(event.store);
    const duration = seconds(event.durationSeconds);
    if (duration !== undefined) {
      this.requestDuration.observe({ era, method, status: foldStatus(event.httpStatus) }, duration);
    }
    const storeSeconds = seconds(event.storeSeconds);
    if (storeSeconds !== undefined) this.requestStoreSeconds.observe({ era, method, store }, storeSeconds);
    const commands = count(event.storeCommands);
    if (commands !== undefined) this.requestStoreCommands.observe({ era, method, store }, commands);
  }

  storeSelected(kind: StoreKind): void {
    this.store = foldStore(kind);
  }

  storeCommand(operation: string, durationSeconds: number, ok: boolean): void {
    const labels = { store: this.store, operation: this.operations.fold(operation) };
    const duration = seconds(durationSeconds);
    if (duration !== undefined) this.storeCommandSeconds.observe(labels, duration);
    if (!ok) this.storeErrors.inc(labels);
  }

  delivered(kind: DeliveryKind, path: DeliveryPath, latencySeconds: number): void {
    const labels = { kind: foldTo(DELIVERY_KIND_LABELS, kind), path: foldTo(DELIVERY_PATH_LABELS, path) };
    this.deliveries.inc(labels);
    const latency = seconds(latencySeconds);
    if (latency !== undefined) this.deliveryLatency.observe(labels, latency);
  }

  sessionCreated(): void {
    this.sessionsCreated.inc();
  }

  sessionDeleted(): void {
    this.sessionsDeleted.inc();
  }

  sessionExpired(): void {
    this.sessionsExpired.inc();
  }

  sessionNotFound(): void {
    this.notFound.inc();
  }

  replayServed(events: number): void {
    const n = count(events);
    if (n === undefined) return;
    this.replays.inc();
    this.replayedEvents.inc(n);
  }

  requestsOrphaned(requests: number): void {
    const n = count(requests);
    if (n !== undefined) this.orphaned.inc(n);
  }

  streamOpened(kind: StreamKind): void {
    this.openStreams.inc({ kind: foldTo(STREAM_KIND_LABELS, kind) });
  }

  streamClosed(kind: StreamKind): void {
    this.openStreams.dec({ kind: foldTo(STREAM_KIND_LABELS, kind) });
  }

  inputRound(era: 'legacy' | 'modern', phase: 'requested' | 'resumed'): void {
    this.inputRounds.inc({ era: foldTo(ERA_LABELS, era), phase: foldTo(INPUT_PHASE_LABELS, phase) });
  }

  taskCreated(): void {
    this.tasksCreated.inc();
  }

  taskEnded(status: 'completed' | 'failed' | 'cancelled', reason: string, durationSeconds: number): void {
    const folded = foldTo(TASK_STATUS_LABELS, status);
    this.tasksEnded.inc({ status: folded, reason: foldTo(TASK_END_REASON_LABELS, reason) });
    const s = seconds(durationSeconds);
    if (s !== undefined) this.taskDuration.observe({ status: folded }, s);
  }

  taskOrphaned(outcome: 'failed' | 'rerun' | 'cancelled'): void {
    this.tasksOrphaned.inc({ outcome: foldTo(TASK_ORPHAN_OUTCOME_LABELS, outcome) });
  }

  taskRefused(limit: string): void {
    this.taskRefusals.inc({ limit: foldTo(TASK_LIMIT_LABELS, limit) });
  }

  tasksRunning(running: number, overdue: number): void {
    const r = count(running);
    const o = count(overdue);
    if (r !== undefined) this.tasksRunningGauge.set(r);
    if (o !== undefined) this.tasksOverdueGauge.set(o);
  }

  cachedSessions(sessions: number): void {
    const n = count(sessions);
    if (n !== undefined) this.cachedSessionsGauge.set(n);
  }

  sessionCacheTracking(on: boolean): void {
    this.sessionCacheTrackingGauge.set(on ? 1 : 0);
  }

  readiness(isReady: boolean): void {
    this.ready.set(isReady ? 1 : 0);
  }
}

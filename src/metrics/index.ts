export { PrometheusObserver, type PrometheusObserverOptions } from './prometheus-observer.js';
export { startMetricsServer, type MetricsServer } from './server.js';
export {
  METHOD_LABELS,
  KNOWN_REDIS_OPERATIONS,
  OTHER,
  OperationFolder,
  foldMethod,
  foldStore,
  foldStatus,
} from './labels.js';
export {
  DELIVERY_SECONDS_BUCKETS,
  STORE_COMMAND_COUNT_BUCKETS,
  STORE_SECONDS_BUCKETS,
  REQUEST_SECONDS_BUCKETS,
} from './buckets.js';

/** The metrics the observer defines (name → type), as documented in monitoring/README.md. */
export const EXPECTED_METRICS: Record<string, string> = {
  mcp_fleet_request_redis_seconds: 'histogram',
  mcp_fleet_request_redis_commands: 'histogram',
  mcp_fleet_request_duration_seconds: 'histogram',
  mcp_fleet_redis_command_seconds: 'histogram',
  mcp_fleet_redis_errors_total: 'counter',
  mcp_fleet_deliveries_total: 'counter',
  mcp_fleet_delivery_latency_seconds: 'histogram',
  mcp_fleet_sessions_created_total: 'counter',
  mcp_fleet_sessions_deleted_total: 'counter',
  mcp_fleet_sessions_expired_total: 'counter',
  mcp_fleet_session_not_found_total: 'counter',
  mcp_fleet_replays_total: 'counter',
  mcp_fleet_replayed_events_total: 'counter',
  mcp_fleet_open_streams: 'gauge',
  mcp_fleet_cached_sessions: 'gauge',
  mcp_fleet_ready: 'gauge',
};

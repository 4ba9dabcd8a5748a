/**
 * The Prometheus series the control plane reads at every tick (PROMETHEUS_URL), recorded by
 * `monitoring/prometheus/rules/autoscaling.rules.yml`: the pool-average utilisation (0..1) over each member's newest
 * scrape interval (`irate`), and how many members that average covers. The policy's load is their product, in
 * members' worth of CPU. The alerts keep the 1-minute rate; the simulator finds these names in the rules file to
 * model the reading's window (`apps/scaling-sim` shipped-settings).
 */
export const READING_SERIES = {
  utilisation: 'pool:node_cpu_utilisation:avg_irate',
  members: 'pool:node_cpu_utilisation:members_irate',
  /**
   * Requests in flight on the members that average covers: their established TCP connections (the node exporter's
   * `node_netstat_Tcp_CurrEstab`, on by default) less the scrape's own. It does not stop at 100 % as the
   * utilisation does (`PolicySettings.inFlightLoad`). Absent (an older rules file), the policy guesses as before.
   */
  inFlight: 'pool:node_netstat_Tcp_CurrEstab:in_flight',
} as const;

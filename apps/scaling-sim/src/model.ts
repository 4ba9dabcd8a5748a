import {
  applyForecast,
  decideScaling,
  Direction,
  forecastPool,
  ForecastSettings,
  LoadSample,
  Measurement,
  PolicySettings,
  ScheduleWindow,
  scheduledBounds,
  seasonalMean,
  seasonalPeak,
  SignalBook,
} from '@app/scaling-policy';

import { Random } from './random';
import { demandFor, Trace } from './traces';

/** One alerting rule: `pool average <op> threshold` held for `forSeconds`. */
export interface RuleModel {
  name: string;
  direction: Direction;
  op: '>' | '<';
  threshold: number;
  forSeconds: number;
  /** Labelled autoscale_policy=target: only the target policy acts on it. */
  targetOnly?: boolean;
}

/** The notification policy of the Alertmanager (Grafana's or Prometheus'), per alert group (one per rule). */
export interface NotificationModel {
  groupWait: number;
  groupInterval: number;
  repeatInterval: number;
  sendResolved: boolean;
}

/**
 * What can be wrong with a member's count of requests in flight (the node exporter counts every established TCP
 * connection of the host, not requests): `stray` connections held open with no request on them (idle keep-alive, an
 * SSH session, a sidecar's connection), a count `scale`d by a factor (a client holding two connections a request), and
 * `poisson` draws of an open-loop load's requests around their mean.
 */
export interface InFlightError {
  /** Connections a member holds with no request on them. */
  stray?: number;
  /** The count times this factor. */
  scale?: number;
  /** Whole requests, Poisson-distributed about the exact count. */
  poisson?: boolean;
}

/** One member's count at a scrape: the exact share of the load, made wrong as `error` says. */
export function countInFlight(exact: number, error: InFlightError | undefined, random: Random): number {
  if (!error) return exact;
  const mean = exact * (error.scale ?? 1);
  return (error.poisson ? poisson(mean, random) : mean) + (error.stray ?? 0);
}

/** A Poisson deviate (Knuth's product of uniforms; means here are at most a few tens). */
function poisson(mean: number, random: Random): number {
  if (mean <= 0) return 0;
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = random.next(); p > limit; p *= random.next()) k++;
  return k;
}

export interface ModelSettings {
  bounds: { min: number; max: number };
  /** Seconds from a scale-up call until the new member serves and is scraped. */
  boot: number;
  scrapeInterval: number;
  /** The rate window of the utilisation (`rate(...[1m])`) the alert rules use. */
  rateWindow: number;
  /**
   * The window of the utilisation the control plane reads at every tick (READING_SERIES): the scrape interval for
   * the shipped `irate` rules (each member's newest interval), the rate window for a `rate` rule.
   */
  readingWindow: number;
  evaluationInterval: number;
  /**
   * How often the control plane reads the load balancer's health of each member (DISCOVERY_INTERVAL_SECONDS): a
   * tick knows as serving the members that served at the last read. Absent: the tick knows nothing of it.
   */
  discoveryInterval?: number;
  rules: RuleModel[];
  notification: NotificationModel;
  tickInterval: number;
  /** Where the control plane reads the utilisation at decision time, besides the notifications. */
  valueSource: 'prometheus' | 'notification';
  alertTtl: number;
  policy: PolicySettings;
  noise: number;
  seed: number;
  /**
   * Whether each member's scrape carries its requests in flight (node_exporter's `node_netstat_Tcp_CurrEstab`, the
   * scrape's own connection taken off): the tick's reading then says how far above a saturated measure the load is.
   */
  inFlight?: boolean;
  /** How each member's count of requests in flight is wrong (`--in-flight-error`); absent: exact. */
  inFlightError?: InFlightError;
  /** Scheduled capacity (the control plane's SCHEDULES), applied at every tick; `startAt` is second 0's Unix time. */
  schedules?: ScheduleWindow[];
  startAt?: number;
  /**
   * Predictive pre-scaling (libs/scaling-policy `forecast.ts`): the model records the pool's load at every scrape
   * (what Prometheus' `pool:node_cpu_utilisation:sum` would hold) and every tick forecasts from it a day and a week
   * back. Absent or mode `off`: nothing is recorded or forecast.
   */
  prediction?: ForecastSettings;
}

export type SimPolicy = 'target' | 'step' | 'reference';

export interface ScaleCall {
  t: number;
  from: number;
  to: number;
  code: string;
}

export interface Timeline {
  clients: number[];
  demand: number[];
  requested: number[];
  serving: number[];
  /** The pool-average utilisation as Prometheus computes it (null before any sample). */
  utilisation: (number | null)[];
  /** How many members that average covers (a member enters it at its second scrape). */
  measured: number[];
  calls: ScaleCall[];
  notifications: { t: number; rule: string; status: 'firing' | 'resolved' }[];
  /** With prediction: the forecast size of the latest tick (null: no forecast), per second. */
  forecast?: (number | null)[];
}

interface Member {
  createdAt: number;
  readyAt: number;
  acc: number;
  accSeconds: number;
  /** Scraped once: the CPU counters have a first value, so the next scrape gives a rate (Prometheus needs two). */
  baseline: boolean;
  samples: { t: number; v: number }[];
  /** Requests in flight at its last scrape (the node exporter's node_netstat_Tcp_CurrEstab less the scrape's own). */
  inFlight: number;
}

interface AlertModelState {
  state: 'inactive' | 'pending' | 'firing';
  since: number;
  value: number | null;
  /** Resolved since the last flush of its group. */
  resolvedPending: boolean;
}

interface GroupState {
  nextFlush: number;
  lastSentFiring: boolean;
  lastSentAt: number;
}

const INITIAL = -1e6;

/** The course's rules. */
export const REFERENCE_RULES: RuleModel[] = [
  { name: 'PoolCpuHigh', direction: 'up', op: '>', threshold: 0.8, forSeconds: 60 },
  { name: 'PoolCpuLow', direction: 'down', op: '<', threshold: 0.2, forSeconds: 60 },
];

/**
 * Replays a trace through a model of the whole pipeline, one second at a time: closed-loop clients spread over the
 * serving members, scrapes, the rate window, rule evaluation with `for`, the notification pipeline (group_wait,
 * group_interval, repeat_interval with Alertmanager's dedup rule, resolved notifications), the control plane's
 * tick with the real policy (libs/scaling-policy), and the pool (boot time; booting members removed first).
 * The reference policy instead acts at once on every notification, which comes every 300 s while an alert fires.
 */
export function simulate(trace: Trace, policy: SimPolicy, modelSettings: ModelSettings): Timeline {
  // The reference and the one-step policy alert with the course's two rules; alerts scoped to the target policy
  // (label autoscale_policy=target) are ignored by a control plane running the step policy.
  const settings =
    policy === 'target'
      ? modelSettings
      : { ...modelSettings, rules: modelSettings.rules.filter((r) => !r.targetOnly) };
  const random = new Random(settings.seed);
  const members: Member[] = [];
  const addMember = (t: number, ready: number) =>
    members.push({
      createdAt: t,
      readyAt: ready,
      acc: 0,
      accSeconds: 0,
      baseline: ready === INITIAL,
      samples: [],
      inFlight: 0,
    });
  for (let i = 0; i < settings.bounds.min; i++) addMember(INITIAL, INITIAL);

  const alerts = new Map<string, AlertModelState>(
    settings.rules.map((r) => [r.name, { state: 'inactive', since: 0, value: null, resolvedPending: false }]),
  );
  const groups = new Map<string, GroupState>();
  const referenceRepeat = new Map<string, number>();
  const book = new SignalBook(settings.alertTtl);
  let lastScaledAt: number | null = null;
  const policySettings: PolicySettings = {
    ...settings.policy,
    policy: policy === 'step' ? 'step' : 'target',
    bounds: settings.bounds,
  };

  const timeline: Timeline = {
    clients: [],
    demand: [],
    requested: [],
    serving: [],
    utilisation: [],
    measured: [],
    calls: [],
    notifications: [],
  };

  const utilisation = (
    t: number,
    window = settings.rateWindow,
  ): { value: number; members: number; inFlight: number } | null => {
    let sum = 0;
    let counted = 0;
    let inFlight = 0;
    for (const m of members) {
      const inWindow = m.samples.filter((s) => s.t > t - window && s.t <= t);
      if (inWindow.length === 0) continue;
      sum += inWindow.reduce((a, s) => a + s.v, 0) / inWindow.length;
      inFlight += m.inFlight;
      counted++;
    }
    return counted > 0 ? { value: sum / counted, members: counted, inFlight } : null;
  };

  const resize = (t: number, to: number, code: string) => {
    const from = members.length;
    if (to === from) return;
    if (to > from) for (let i = from; i < to; i++) addMember(t, t + settings.boot);
    else {
      // Booting members go first, then the newest.
      members.sort((a, b) => a.readyAt - b.readyAt);
      members.splice(to);
    }
    timeline.calls.push({ t, from, to, code });
    lastScaledAt = t;
  };

  const deliver = (t: number, rule: RuleModel, status: 'firing' | 'resolved', value: number | null) => {
    timeline.notifications.push({ t, rule: rule.name, status });
    if (policy === 'reference') {
      if (status === 'firing') {
        const to = members.length + (rule.direction === 'up' ? 1 : -1);
        resize(t, Math.min(settings.bounds.max, Math.max(settings.bounds.min, to)), 'Reference');
      }
      return;
    }
    book.notify({ direction: rule.direction, alert: rule.name, status, value, source: 'model' }, t);
  };

  const scheduledAt = (t: number) => {
    const { min, max } = scheduledBounds(
      settings.schedules ?? [],
      settings.bounds,
      (settings.startAt ?? 0) + t,
    );
    return { min, max };
  };

  const prediction =
    policy !== 'reference' && settings.prediction && settings.prediction.mode !== 'off'
      ? settings.prediction
      : null;
  // What Prometheus would hold: the pool's load (utilisation x the members it covers) at every scrape.
  const loads: LoadSample[] = [];
  let forecastSize: number | null = null;
  if (prediction) timeline.forecast = [];

  let current: { value: number; members: number; inFlight: number } | null = null;
  // What the tick reads: under target tracking the same average over `readingWindow` (READING_SERIES), on the alert
  // path the alerts' own mean.
  const readingWindow =
    policySettings.policy === 'target' && policySettings.scaleOnEveryReading
      ? settings.readingWindow
      : settings.rateWindow;
  let reading: { value: number; members: number; inFlight: number } | null = null;
  // The control plane's readings of earlier ticks (PolicyInput.history): the last 10 minutes.
  const readings: Measurement[] = [];
  for (let t = 0; t < trace.duration; t++) {
    const clients = trace.clientsAt(t);
    const serving = members.filter((m) => m.readyAt <= t);
    const cpu = serving.length > 0 ? Math.min(1, clients / serving.length) : 0;
    for (const m of serving) {
      m.acc += cpu;
      m.accSeconds++;
    }

    if (t % settings.scrapeInterval === 0) {
      const share = serving.length > 0 ? clients / serving.length : 0;
      for (const m of serving) {
        m.inFlight = settings.inFlight
          ? countInFlight(
              Math.max(0, settings.noise > 0 ? share * (1 + settings.noise * random.normal()) : share),
              settings.inFlightError,
              random,
            )
          : 0;
        if (m.accSeconds === 0) continue;
        // A member's first scrape only gives its counters a first value: `rate`/`irate` need two samples, so it
        // enters the utilisation a scrape interval later (the members it measures lag the members that serve).
        if (!m.baseline) {
          m.baseline = true;
          m.acc = 0;
          m.accSeconds = 0;
          continue;
        }
        const mean = m.acc / m.accSeconds;
        const noisy = settings.noise > 0 ? mean * (1 + settings.noise * random.normal()) : mean;
        m.samples.push({ t, v: Math.min(1, Math.max(0, noisy)) });
        while (m.samples.length > 0 && m.samples[0].t <= t - settings.rateWindow) m.samples.shift();
        m.acc = 0;
        m.accSeconds = 0;
      }
      current = utilisation(t);
      reading = readingWindow === settings.rateWindow ? current : utilisation(t, readingWindow);
      if (prediction && current !== null) loads.push({ t, load: current.value * current.members });
    }

    if (t % settings.evaluationInterval === 0) {
      for (const rule of settings.rules) {
        const a = alerts.get(rule.name)!;
        const holds =
          current !== null &&
          (rule.op === '>' ? current.value > rule.threshold : current.value < rule.threshold);
        a.value = current?.value ?? null;
        if (holds) {
          if (a.state === 'inactive') {
            a.state = 'pending';
            a.since = t;
          }
          if (a.state === 'pending' && t - a.since >= rule.forSeconds) {
            a.state = 'firing';
            a.since = t;
            if (policy === 'reference') {
              deliver(t, rule, 'firing', a.value);
              referenceRepeat.set(rule.name, t + 300);
            } else if (!groups.has(rule.name)) {
              groups.set(rule.name, {
                nextFlush: t + settings.notification.groupWait,
                lastSentFiring: false,
                lastSentAt: -Infinity,
              });
            }
          }
        } else {
          if (a.state === 'firing') a.resolvedPending = true;
          a.state = 'inactive';
        }
      }
    }

    if (policy === 'reference') {
      for (const rule of settings.rules) {
        if (alerts.get(rule.name)!.state === 'firing' && referenceRepeat.get(rule.name) === t) {
          deliver(t, rule, 'firing', alerts.get(rule.name)!.value);
          referenceRepeat.set(rule.name, t + 300);
        }
      }
    } else {
      for (const rule of settings.rules) {
        const g = groups.get(rule.name);
        if (!g || g.nextFlush !== t) continue;
        const a = alerts.get(rule.name)!;
        const n = settings.notification;
        if (a.state === 'firing') {
          // Alertmanager's dedup (notify.go needsUpdate): a changed set, or the last send older than the repeat.
          if (!g.lastSentFiring || g.lastSentAt < t - n.repeatInterval) {
            deliver(t, rule, 'firing', a.value);
            g.lastSentFiring = true;
            g.lastSentAt = t;
          }
          a.resolvedPending = false;
          g.nextFlush = t + n.groupInterval;
        } else {
          if (g.lastSentFiring && n.sendResolved) deliver(t, rule, 'resolved', a.value);
          a.resolvedPending = false;
          groups.delete(rule.name);
        }
      }
    }

    if (policy !== 'reference' && t % settings.tickInterval === 0) {
      book.expire(t);
      // The load balancer's health as of the last discovery pass, whose phase is independent of the tick's: taken
      // as half an interval old (the expected age), the members that took traffic then.
      const lbReadAt = settings.discoveryInterval ? t - settings.discoveryInterval / 2 : null;
      const measurement: Measurement | null =
        settings.valueSource === 'prometheus' && reading !== null
          ? {
              utilisation: reading.value,
              members: reading.members,
              measuredAt: t,
              source: 'prometheus',
              ...(settings.inFlight ? { inFlight: reading.inFlight } : {}),
              ...(lbReadAt !== null ? { serving: members.filter((m) => m.readyAt <= lbReadAt).length } : {}),
            }
          : null;
      const snapshot = { up: book.pendingStep('up'), down: book.pendingStep('down') };
      const bounds = settings.schedules ? scheduledAt(t) : settings.bounds;
      const reactive = decideScaling({
        now: t,
        request: { kind: 'tick' },
        pool: { size: members.length, state: 'running' },
        members: members.map((m) => ({ createdAt: m.createdAt === INITIAL ? null : m.createdAt })),
        signals: { up: book.signals('up', t), down: book.signals('down', t) },
        measurement,
        lastScaledAt,
        history: readings.filter((r) => r.measuredAt >= t - 600),
        // The control plane's effectiveBounds: the windows active at this tick's wall-clock time.
        settings: settings.schedules ? { ...policySettings, bounds } : policySettings,
      });
      let decision = reactive;
      if (prediction) {
        const lead = prediction.leadSeconds;
        const forecast = forecastPool(
          {
            day: seasonalPeak(loads, t, prediction.daySeconds, lead, prediction.peakQuantile),
            week: seasonalPeak(loads, t, 7 * prediction.daySeconds, lead, prediction.peakQuantile),
            recent: {
              now: seasonalMean(loads, t, 0, prediction.checkSeconds),
              day: seasonalMean(loads, t, prediction.daySeconds, prediction.checkSeconds),
              week: seasonalMean(loads, t, 7 * prediction.daySeconds, prediction.checkSeconds),
            },
          },
          prediction,
          bounds,
        );
        forecastSize = forecast.forecastSize;
        decision = applyForecast(reactive, forecast, { kind: 'tick' });
        // Prometheus keeps 15 days: so does the model (a week and the look-ahead is all the forecast reads).
        const keep = t - 7 * prediction.daySeconds - lead - 60;
        if (loads.length > 20000 && loads[0].t < keep) {
          let drop = 0;
          while (drop < loads.length && loads[drop].t < keep) drop++;
          loads.splice(0, drop);
        }
      }
      if (measurement) readings.push(measurement);
      while (readings.length > 0 && readings[0].measuredAt < t - 600) readings.shift();
      for (const d of decision.consumes) book.consume(d, snapshot[d]);
      if (decision.outcome === 'scale') resize(t, decision.targetSize, decision.code);
    }

    timeline.clients.push(clients);
    timeline.demand.push(demandFor(clients, settings.bounds));
    timeline.requested.push(members.length);
    timeline.serving.push(members.filter((m) => m.readyAt <= t).length);
    timeline.utilisation.push(current?.value ?? null);
    timeline.measured.push(current?.members ?? 0);
    timeline.forecast?.push(forecastSize);
  }
  return timeline;
}

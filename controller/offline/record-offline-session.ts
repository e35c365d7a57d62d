// Records a backup an agent ran on its own while it could not reach the controller (edge
// autonomy, issue 15) as the BackupSession of its scheduled time, trigger offline: one session
// per scheduled time, whoever ran it. The session the scheduler made for that time is taken over
// when it never ran (Pending; claimed by this same agent, which ran the time offline instead;
// or ended without an agent ever starting it, e.g. NO_AGENT while the link was down). A time
// that did run otherwise is refused (CONFLICT): the report cannot make it run twice, and its
// snapshot stays in the repository for retention to see. The result is checked against the
// repository as every result is (result-check.ts), then finished as every session is, so the
// configuration's status, metrics and Pushgateway see it.
import { ErrorCodes, SidestashError, isSidestashError } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import type { OfflineSessionRecorded, OfflineSessionReport } from '../../common/offline-protocol.ts';
import { latestRunAt } from '../../common/schedule.ts';
import { scheduledSessionName } from '../../common/scheduled-name.ts';
import { checkReportedResult } from '../agents/result-check.ts';
import type { BackupConfigurationSpec, BackupSessionSpec, Resource, SessionStatus } from '../resources/types.ts';
import type { Session, SessionManager } from '../sessions/session-manager.ts';
import type { AgentRecord } from '../store/store.ts';

/** How far in the future (the agent's clock) a reported scheduled time may be. */
const CLOCK_MARGIN_MS = 5 * 60_000;

export async function recordOfflineSession(m: SessionManager, agent: Pick<AgentRecord, 'name' | 'targets'>, report: OfflineSessionReport, signal: AbortSignal, log: Logger): Promise<OfflineSessionRecorded> {
  const ns = agent.name.split('/')[0]!;
  const cfg = await m.store.get<BackupConfigurationSpec, unknown>('BackupConfiguration', ns, report.configuration);
  if (!cfg || cfg.metadata.uid !== report.configurationUid) {
    throw new SidestashError(ErrorCodes.CONFLICT, `BackupConfiguration ${ns}/${report.configuration} (uid ${report.configurationUid}) no longer exists; the offline backup of ${report.scheduledAt} is not recorded (its snapshot ${report.result.snapshotId ?? '-'} stays in the repository)`);
  }
  if (!agent.targets.includes(`${ns}/${cfg.spec.target.ref.name}`)) {
    throw new SidestashError(ErrorCodes.FORBIDDEN, `agent ${agent.name} does not serve the target of BackupConfiguration ${ns}/${cfg.metadata.name}`, { details: { status: 403 } });
  }
  const slotMs = Date.parse(report.scheduledAt);
  const schedule = { schedule: cfg.spec.schedule, ...(cfg.spec.timezone ? { timezone: cfg.spec.timezone } : {}) };
  const created = Date.parse(cfg.metadata.creationTimestamp ?? '');
  const startedMs = Date.parse(report.startedAt);
  if (latestRunAt(schedule, slotMs) !== slotMs || slotMs > Date.now() + CLOCK_MARGIN_MS || (Number.isFinite(created) && slotMs < created - CLOCK_MARGIN_MS)) {
    throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `scheduledAt ${report.scheduledAt} is not a scheduled time of BackupConfiguration ${ns}/${cfg.metadata.name} (${cfg.spec.schedule}) since it was created`);
  }
  const name = scheduledSessionName(cfg.metadata.name, slotMs);
  const runningSince = new Date(Math.min(Math.max(startedMs, slotMs), Date.now())).toISOString();
  const session = await m.exclusive(() => takeSlot(m, cfg as Resource<BackupConfigurationSpec>, name, agent.name, runningSince, report.result.error?.code !== ErrorCodes.AGENT_LOST));
  if (isFinished(session)) return { session: name, phase: session.status!.phase };
  log.info('recording a backup an agent ran offline', { session: `${ns}/${name}`, agent: agent.name, scheduledAt: report.scheduledAt, phase: report.result.phase });
  let checked;
  try {
    checked = await checkReportedResult(m.store, session as Resource<BackupSessionSpec, unknown>, report.result, signal, { offline: true });
  } catch (err) {
    // The repository cannot be reached now: the agent reports again; the session stays its own meanwhile.
    if (isSidestashError(err) && err.retryable) await m.renewLease('BackupSession', ns, name, agent.name);
    throw err;
  }
  // It finished when the agent's backup did, not when the report came (the last success time and its alerts read it).
  const ranS = checked.result.durationSeconds;
  const ranFromMs = Date.parse(session.status?.startedAt ?? '');
  const finishedMs = typeof ranS === 'number' && ranS >= 0 && Number.isFinite(ranFromMs + ranS * 1000) ? Math.min(ranFromMs + ranS * 1000, Date.now()) : Date.now();
  const done = await m.complete('BackupSession', ns, name, agent.name, checked.result, { finishedAtMs: finishedMs });
  if (checked.rejected) throw checked.rejected;
  return { session: name, phase: done.status!.phase };
}

function isFinished(s: Session): boolean {
  const p = s.status?.phase;
  return p === 'Succeeded' || p === 'Failed' || p === 'Cancelled';
}

/**
 * The scheduled time's session, Running as this agent's offline run (or already recorded as one).
 * reopenLost: this agent's offline session that ended AGENT_LOST (its lease ran out, or the agent
 * deregistered, between taking the time and writing the result: a controller stopped mid-report,
 * an agent backing off) is Running again, so the report sent again records what ran.
 */
async function takeSlot(m: SessionManager, cfg: Resource<BackupConfigurationSpec>, name: string, agent: string, startedAt: string, reopenLost: boolean): Promise<Session> {
  const ns = cfg.metadata.namespace;
  const running: SessionStatus = { phase: 'Running', agent, startedAt, leaseExpiresAt: new Date(Date.now() + m.leaseMs).toISOString() };
  return m.withSession('BackupSession', ns, name, async (cur) => {
    if (!cur) {
      const s = (await m.store.create({
        apiVersion: 'sidestash.io/v1',
        kind: 'BackupSession',
        metadata: { name, namespace: ns, labels: { 'sidestash.io/invoker': cfg.metadata.name }, creationTimestamp: new Date().toISOString() },
        spec: { invoker: { kind: 'BackupConfiguration', name: cfg.metadata.name, ...(cfg.metadata.uid ? { uid: cfg.metadata.uid } : {}) }, trigger: 'offline' },
        status: running,
      })) as Session;
      m.emit('started', s);
      return s;
    }
    const spec = cur.spec as BackupSessionSpec;
    const st = cur.status;
    // Another configuration's session under this name (a name cut to 63 characters, or made by
    // hand) is never this run's: it is refused below, not answered or finished with this result.
    const ours = spec.invoker?.name === cfg.metadata.name && (spec.invoker.uid === undefined || spec.invoker.uid === cfg.metadata.uid);
    if (ours && spec.trigger === 'offline' && st?.agent === agent) {
      if (!(reopenLost && isFinished(cur) && st.error?.code === ErrorCodes.AGENT_LOST)) return cur;
      const s = (await m.store.updateStatus({ ...cur, status: { ...running, startedAt: st.startedAt ?? startedAt } }, { ifVersion: cur.metadata.resourceVersion! })) as Session;
      m.emit('started', s);
      return s;
    }
    // This agent's own claim never ran either, also once its lease ran out (AGENT_LOST): the agent
    // claimed it while it ran the same time offline, and reports that run instead (agent.ts), after
    // that backup finished, which may take longer than a lease. Only this agent could have run it.
    const mineLost = isFinished(cur) && st?.agent === agent && st.error?.code === ErrorCodes.AGENT_LOST;
    const neverRan = st?.phase === 'Pending' || (st?.phase === 'Running' && st.agent === agent) || mineLost || (isFinished(cur) && st?.startedAt === undefined);
    if (!neverRan || !ours) {
      throw new SidestashError(ErrorCodes.CONFLICT, `the scheduled run ${ns}/${name} already ran (${st?.phase ?? 'unknown'}${st?.agent ? ` on agent ${st.agent}` : ''}); the offline run of the same time is not recorded (its snapshot stays in the repository)`);
    }
    const taken = await m.store.update({ ...cur, spec: { ...spec, trigger: 'offline' } }, { ifVersion: cur.metadata.resourceVersion! });
    const s = (await m.store.updateStatus({ ...taken, status: running }, { ifVersion: taken.metadata.resourceVersion! })) as Session;
    m.emit('started', s);
    return s;
  });
}

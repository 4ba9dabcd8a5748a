import { Instance } from '@app/exoscale-client';
import { TargetGroup } from '@app/prometheus-sd';

/** Running members with a public IP, one target group per member, labelled with what identifies it and its pool. */
export function targetGroupsForMembers(
  members: readonly Instance[],
  context: { poolId: string; zone: string; pool?: string; targetPort: number },
): TargetGroup[] {
  return members
    .filter((m) => m.state === 'running' && m.publicIp)
    .map((m) => ({
      targets: [`${m.publicIp}:${context.targetPort}`],
      labels: {
        instance_id: m.id,
        instance_name: m.name,
        pool_id: context.poolId,
        zone: context.zone,
        ...(context.pool ? { pool: context.pool } : {}),
      },
    }));
}

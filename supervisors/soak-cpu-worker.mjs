// @ts-check
/**
 * Worker entry of the example back end's CPU pool when its soak hooks are on (`soakHooks: true`,
 * `SOAK_HOOKS=1`): the tasks of workers/cpu.mjs, plus `{ kind: 'soak-crash' }`, which ends its
 * thread with `process.exit(70)` as a crashing native addon or a fatal bug would. Only the soak
 * harness (bench/soak/) sends that task, through `POST /soak/crash-thread`.
 */
import cpu from '../workers/cpu.mjs';

/** @param {import('../workers/tasks.js').CpuTask | { kind: 'soak-crash' }} task */
export default function soakCpu(task) {
  if (task.kind === 'soak-crash') return process.exit(70);
  return cpu(task);
}

export type {
  Strategy,
  Restart,
  Shutdown,
  ExitReason,
  StartContext,
  ChildSpec,
  Backoff,
  SupervisorSpec,
  ChildInfo,
  ChildCounts,
  SupervisorOptions,
  Supervisor,
  DynamicChildSpec,
  DynamicSupervisor,
  DynamicSupervisorOptions,
} from './types.js';
export { SupervisorError, isSupervisorError, type SupervisorErrorCode } from './errors.js';
export { startSupervisor, supervisorChild } from './start-supervisor.js';
export { startDynamicSupervisor } from './dynamic-supervisor.js';
export { SHUTDOWN_EVENT, type ShutdownEvent } from './shutdown-protocol.js';
export { supervisorOf, type SupervisorSnapshot } from './supervisor-actor.js';
export type { ComponentSnapshot } from './component-actor.js';

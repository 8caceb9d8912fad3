import type { Restart, Strategy } from '../../src/index.js';

/**
 * A pure model of the OTP supervisor rules the property specs check the real supervisor against.
 * It knows nothing of actors or promises: children are records, time is a number.
 */
export interface ModelChild {
  readonly id: string;
  readonly restart: Restart;
  running: boolean;
  starts: number;
}

export interface SupervisorModel {
  readonly strategy: Strategy;
  readonly intensity: number;
  readonly period: number;
  children: ModelChild[];
  restartTimes: number[];
  now: number;
  exited: boolean;
}

export function createModel(
  strategy: Strategy,
  intensity: number,
  period: number,
  children: { id: string; restart: Restart }[],
): SupervisorModel {
  return {
    strategy,
    intensity,
    period,
    children: children.map((child) => ({ ...child, running: true, starts: 1 })),
    restartTimes: [],
    now: 0,
    exited: false,
  };
}

function modelShouldRestart(restart: Restart, reason: 'normal' | 'error'): boolean {
  return restart === 'permanent' || (restart === 'transient' && reason === 'error');
}

/** OTP's add_restart over a plain list: keep restarts with now - t <= period, add now. */
function addRestart(model: SupervisorModel): boolean {
  model.restartTimes = model.restartTimes.filter((time) => model.now - time <= model.period);
  model.restartTimes.push(model.now);
  return model.restartTimes.length <= model.intensity;
}

/** A running child exits by itself with `reason`. */
export function childExits(model: SupervisorModel, id: string, reason: 'normal' | 'error'): void {
  const index = model.children.findIndex((child) => child.id === id);
  const child = model.children[index];
  if (!child || !child.running || model.exited) return;
  child.running = false;
  if (!modelShouldRestart(child.restart, reason)) {
    if (child.restart === 'temporary') model.children.splice(index, 1);
    return;
  }
  if (!addRestart(model)) {
    model.exited = true;
    for (const each of model.children) each.running = false;
    model.children = model.children.filter((each) => each.restart !== 'temporary');
    return;
  }
  const group =
    model.strategy === 'one_for_one'
      ? [child]
      : model.strategy === 'one_for_all'
        ? [...model.children]
        : model.children.slice(index);
  for (const member of group) member.running = false;
  model.children = model.children.filter((each) => !(group.includes(each) && each.restart === 'temporary'));
  for (const member of group) {
    if (!model.children.includes(member)) continue;
    member.running = true;
    member.starts += 1;
  }
}

export function terminate(model: SupervisorModel, id: string): void {
  const index = model.children.findIndex((child) => child.id === id);
  const child = model.children[index];
  if (!child) return;
  child.running = false;
  if (child.restart === 'temporary') model.children.splice(index, 1);
}

export function restartByHand(model: SupervisorModel, id: string): void {
  const child = model.children.find((each) => each.id === id);
  if (!child || child.running) return;
  child.running = true;
  child.starts += 1;
}

export function addChild(model: SupervisorModel, id: string, restart: Restart): void {
  model.children.push({ id, restart, running: true, starts: 1 });
}

export function deleteChild(model: SupervisorModel, id: string): void {
  const index = model.children.findIndex((child) => child.id === id);
  if (index >= 0 && !model.children[index]!.running) model.children.splice(index, 1);
}

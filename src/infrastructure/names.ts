/** A part of a component's name: as it is when it holds no `.` or `"`, else quoted as a JSON string. */
function namePart(part: string): string {
  return part.includes('.') || part.includes('"') ? JSON.stringify(part) : part;
}

/**
 * The name a component reports in errors and telemetry, and a Redis limiter keys its data by:
 * `<namespace>.<name>`, each part quoted when it holds a `.` or a `"` (`"billing.eu".api`,
 * `billing."eu.api"`), so that no two (namespace, name) pairs share a name, while plain names stay
 * as they read. Unambiguous: a part is either bare (no `.`, no `"`) or a JSON string, which ends
 * at its first unescaped `"`, so a name splits back into its parts one way only. An insurance
 * limiter's `<name>.insurance` has three parts, so it never equals a component's name either.
 */
export function componentName(namespace: string, name: string): string {
  return `${namePart(namespace)}.${namePart(name)}`;
}

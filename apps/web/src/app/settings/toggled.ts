/** A copy of `set` with `value` in it (`on`) or not: for checkbox groups held in a signal. */
export function toggled<T>(set: ReadonlySet<T>, value: T, on: boolean): ReadonlySet<T> {
  const next = new Set(set);
  if (on) next.add(value);
  else next.delete(value);
  return next;
}

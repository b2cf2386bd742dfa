import { computed, Injectable, signal } from '@angular/core';

/**
 * Which jobs of a list are selected, as photo apps do it: a click toggles one and sets the anchor,
 * a shift-click selects everything from the anchor to it (in the order shown), select-all takes
 * every job in view. Ids only: the page intersects them with the jobs it shows.
 */
@Injectable()
export class LibrarySelection {
  private readonly ids = signal<ReadonlySet<string>>(new Set());
  private anchor: string | null = null;

  readonly selected = this.ids.asReadonly();
  readonly count = computed(() => this.ids().size);
  readonly active = computed(() => this.ids().size > 0);

  has(id: string): boolean {
    return this.ids().has(id);
  }

  toggle(id: string): void {
    this.anchor = id;
    this.ids.update((ids) => {
      const next = new Set(ids);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  }

  /**
   * Adds every id from the anchor to `id` in `order` (the list as shown); without an anchor, or
   * when the anchor has left the list, just `id`. The anchor stays, so further shift-clicks pivot
   * around it.
   */
  selectRange(order: readonly string[], id: string): void {
    const to = order.indexOf(id);
    if (to < 0) return;
    const from = this.anchor === null ? -1 : order.indexOf(this.anchor);
    if (from < 0) {
      this.anchor = id;
      this.ids.update((ids) => new Set(ids).add(id));
      return;
    }
    const [start, end] = from <= to ? [from, to] : [to, from];
    this.ids.update((ids) => {
      const next = new Set(ids);
      for (const each of order.slice(start, end + 1)) next.add(each);
      return next;
    });
  }

  /** Exactly these ids (select all in view). */
  set(ids: Iterable<string>): void {
    this.ids.set(new Set(ids));
  }

  clear(): void {
    this.anchor = null;
    if (this.ids().size > 0) this.ids.set(new Set());
  }

  /** Drops ids that are not in `present` any more (deleted, filtered out). */
  retain(present: ReadonlySet<string>): void {
    const ids = this.ids();
    if ([...ids].every((id) => present.has(id))) return;
    this.ids.set(new Set([...ids].filter((id) => present.has(id))));
    if (this.anchor !== null && !present.has(this.anchor)) this.anchor = null;
  }
}

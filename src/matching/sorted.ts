/** Helpers for arrays kept sorted by a numeric `id` (ascending, ids distinct). */

/** Anything with a numeric id. */
export interface Keyed {
  readonly id: number;
}

/** Index of the first element whose id is >= `id` (binary search). */
function lowerBound(arr: readonly Keyed[], id: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const item = arr[mid];
    if (item !== undefined && item.id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Inserts `item` keeping `arr` sorted; an element with the same id is replaced. Appends in O(1). */
export function insertSorted<V extends Keyed>(arr: V[], item: V): void {
  const last = arr[arr.length - 1];
  if (last === undefined || last.id < item.id) {
    arr.push(item);
    return;
  }
  const at = lowerBound(arr, item.id);
  if (arr[at]?.id === item.id) arr[at] = item;
  else arr.splice(at, 0, item);
}

/** Removes the element with this id, if present. */
export function removeSorted(arr: Keyed[], id: number): void {
  const at = lowerBound(arr, id);
  if (arr[at]?.id === id) arr.splice(at, 1);
}

/** Merges two sorted arrays into a new sorted array; on equal ids the element of `a` is kept once. */
export function mergeSorted<V extends Keyed>(a: readonly V[], b: readonly V[]): V[] {
  const out: V[] = [];
  let i = 0;
  let j = 0;
  let x = a[0];
  let y = b[0];
  while (x !== undefined && y !== undefined) {
    if (x.id < y.id) {
      out.push(x);
      x = a[++i];
    } else if (y.id < x.id) {
      out.push(y);
      y = b[++j];
    } else {
      out.push(x);
      x = a[++i];
      y = b[++j];
    }
  }
  for (; x !== undefined; x = a[++i]) out.push(x);
  for (; y !== undefined; y = b[++j]) out.push(y);
  return out;
}

/** The sorted union of several sorted arrays, each id once (balanced pairwise merging). */
export function unionSorted<V extends Keyed>(lists: readonly (readonly V[])[]): readonly V[] {
  let level = lists;
  while (level.length > 1) {
    const next: (readonly V[])[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const a = level[i] as readonly V[];
      const b = level[i + 1];
      next.push(b === undefined ? a : mergeSorted(a, b));
    }
    level = next;
  }
  return level[0] ?? [];
}

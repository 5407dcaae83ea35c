import { GLOBSTAR, type GlobSegment, STAR } from './patterns.js';
import { insertSorted, type Keyed, removeSorted } from './sorted.js';

interface TrieNode<T> {
  readonly serial: number;
  readonly children: Map<string, TrieNode<T>>;
  star: TrieNode<T> | undefined;
  globstar: TrieNode<T> | undefined;
  /** Items with a pattern ending at this node, sorted by id. */
  readonly members: T[];
}

/**
 * A trie over the segments of wildcard glob patterns. Literal segments are map children; `*`
 * and `**` are dedicated edges. Looking up a concrete type walks the trie once (an NFA over
 * segments, memoised per node and position) instead of testing every pattern.
 */
export class GlobTrie<T extends Keyed> {
  private serials = 0;
  private readonly root: TrieNode<T> = this.node();

  private node(): TrieNode<T> {
    return {
      serial: this.serials++,
      children: new Map(),
      star: undefined,
      globstar: undefined,
      members: [],
    };
  }

  private child(node: TrieNode<T>, segment: GlobSegment): TrieNode<T> | undefined {
    if (segment === GLOBSTAR) return node.globstar;
    if (segment === STAR) return node.star;
    return node.children.get(segment);
  }

  /** Adds `item` under a pattern's segments. */
  add(segments: readonly GlobSegment[], item: T): void {
    let node = this.root;
    for (const segment of segments) {
      let next = this.child(node, segment);
      if (next === undefined) {
        next = this.node();
        if (segment === GLOBSTAR) node.globstar = next;
        else if (segment === STAR) node.star = next;
        else node.children.set(segment, next);
      }
      node = next;
    }
    insertSorted(node.members, item);
  }

  /** Removes the item of webhook `id` from a pattern's node and prunes nodes left empty. */
  delete(segments: readonly GlobSegment[], id: number): void {
    const path: TrieNode<T>[] = [this.root];
    let node: TrieNode<T> | undefined = this.root;
    for (const segment of segments) {
      node = this.child(node, segment);
      if (node === undefined) return;
      path.push(node);
    }
    removeSorted(node.members, id);
    for (let depth = segments.length; depth > 0; depth--) {
      const current = path[depth];
      const parent = path[depth - 1];
      const segment = segments[depth - 1];
      if (current === undefined || parent === undefined || segment === undefined) return;
      const empty =
        current.members.length === 0 &&
        current.children.size === 0 &&
        current.star === undefined &&
        current.globstar === undefined;
      if (!empty) return;
      if (segment === GLOBSTAR) parent.globstar = undefined;
      else if (segment === STAR) parent.star = undefined;
      else parent.children.delete(segment);
    }
  }

  /**
   * Pushes onto `into` the (sorted, non-empty) member lists of every node whose pattern matches
   * the concrete type `segments`, each node once. Iterative (an explicit stack of (node,
   * position) pairs), so a type of any number of segments cannot overflow the call stack.
   */
  collect(segments: readonly string[], into: (readonly T[])[]): void {
    const width = segments.length + 1;
    const visited = new Set<number>();
    const nodes: TrieNode<T>[] = [this.root];
    const positions: number[] = [0];
    for (let node = nodes.pop(); node !== undefined; node = nodes.pop()) {
      const i = positions.pop() as number;
      const key = node.serial * width + i;
      if (visited.has(key)) continue;
      visited.add(key);
      if (node.globstar !== undefined) {
        for (let j = i; j <= segments.length; j++) {
          nodes.push(node.globstar);
          positions.push(j);
        }
      }
      const segment = segments[i];
      if (segment === undefined) {
        if (node.members.length > 0) into.push(node.members);
        continue;
      }
      const literal = node.children.get(segment);
      if (literal !== undefined) {
        nodes.push(literal);
        positions.push(i + 1);
      }
      if (node.star !== undefined) {
        nodes.push(node.star);
        positions.push(i + 1);
      }
    }
  }
}

/** Minimal types for the parts of qlobber (which ships none) used by the matching benchmark. */
declare module 'qlobber' {
  interface QlobberOptions {
    separator?: string;
    wildcard_one?: string;
    wildcard_some?: string;
  }
  export class Qlobber<V> {
    constructor(options?: QlobberOptions);
    add(topic: string, value: V): this;
    match(topic: string): V[];
  }
  export class QlobberDedup<V> {
    constructor(options?: QlobberOptions);
    add(topic: string, value: V): this;
    match(topic: string): Set<V>;
  }
}

import type { Store } from '../stores/types.js';

/** A factory that makes one `T` per store object and hands the same one out afterwards. */
export function perStore<T>(create: (store: Store) => T): (store: Store) => T {
  const instances = new WeakMap<Store, T>();
  return (store) => {
    let instance = instances.get(store);
    if (instance === undefined) {
      instance = create(store);
      instances.set(store, instance);
    }
    return instance;
  };
}

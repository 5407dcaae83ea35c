import { memoryStore } from '../../src/index.js';
import { storeConformance } from '../../src/testing/index.js';

storeConformance({ name: 'memory', createStore: () => memoryStore() });

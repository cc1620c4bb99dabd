// Mocha root hooks: close the shared test device so the process exits by itself.
import { closeTestGpu } from './helpers/gpu.js';

export const mochaHooks = {
  async afterAll(): Promise<void> {
    await closeTestGpu();
  },
};

// Run by kernel-choice.test.ts in a child process with PEER_KERNELS set: prints the kernels the process got.
import {
  defaultKernels,
  defaultKernelsLabel,
  defaultNativeAddon,
} from '../../src/kernels/default-kernels.js';

try {
  console.log(
    JSON.stringify({
      name: defaultKernels().name,
      label: defaultKernelsLabel(),
      dense: !!defaultNativeAddon(),
    }),
  );
} catch (error) {
  console.log(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
}

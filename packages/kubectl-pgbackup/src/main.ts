// Entry point of the release bundle (bin/run.js is the one for the compiled sources). No top-level
// await: oclif may exit the process from inside, which Node reports as an unsettled await.
import { execute } from '@oclif/core';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

void execute({ dir: join(dirname(fileURLToPath(import.meta.url)), '..') });

#!/usr/bin/env node
// oclif on the compiled commands in dist/ (bin/kubectl-pgbackup picks a Node >= 22 and runs this).
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });

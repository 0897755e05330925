#!/usr/bin/env node
// pgbackup HTTP API, standalone (in-cluster Deployment or a laptop with a kubeconfig). Needs Node >= 22.19.
import { main } from '../dist/standalone.js';

await main();

// The Node entry point: the portable API, with identity token files read
// from disk and process.env as the default environment.

import { readFile } from 'node:fs/promises';
import { platform } from './client.js';

platform.env = () => process.env;
platform.readFile = (path) => readFile(path, 'utf8');

export * from './index.js';

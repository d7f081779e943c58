// The Node side: the same calls, printed as JSON for check.py.
import { collect } from './calls.js';

console.log(JSON.stringify(await collect()));

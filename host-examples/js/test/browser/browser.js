// The browser side: runs calls.js and writes the findings as JSON into
// <pre id="result"> (or the error into <pre id="error">) for check.py.

import { collect } from './calls.js';

function show(id, text) {
  const pre = document.createElement('pre');
  pre.id = id;
  pre.textContent = text;
  document.body.append(pre);
}

collect().then(
  (result) => {
    const agent = navigator.userAgent.split(' ').find((p) => /^(Headless)?Chrome\//.test(p));
    show('result', JSON.stringify({ runtime: { node: typeof process !== 'undefined', agent }, ...result }));
  },
  (e) => show('error', `${e && e.stack ? e.stack : e}`),
);

// Sign, verify and decode with node's jsonwebtoken, the library VideoSDK's docs sign with.
// Reads a JSON list of operations on stdin and writes the list of their results on stdout,
// so that a whole test module costs one node start-up.
//
//   {"op": "sign", "payload": {...} or "text", "secret": "...", "options": {...},
//    "secretEncoding": "base64" (optional: sign with Buffer.from(secret, encoding))}
//       -> {"token": "..."} or {"error": "..."}
//   {"op": "verify", "token": "...", "secret": "...", "options": {...}}
//       -> {"ok": true, "payload": {...}} or {"ok": false, "error": "TokenExpiredError", "message": "..."}
//   {"op": "decode", "token": "..."} -> {"header": {...}, "payload": ...}
'use strict';

const jwt = require('jsonwebtoken');

function run(operation) {
  try {
    switch (operation.op) {
      case 'sign': {
        const secret = operation.secretEncoding
          ? Buffer.from(operation.secret, operation.secretEncoding)
          : operation.secret;
        return { token: jwt.sign(operation.payload, secret, operation.options || {}) };
      }
      case 'verify':
        return {
          ok: true,
          payload: jwt.verify(operation.token, operation.secret, operation.options || {}),
        };
      case 'decode': {
        const decoded = jwt.decode(operation.token, { complete: true });
        return decoded ? { header: decoded.header, payload: decoded.payload } : { error: 'null' };
      }
      default:
        return { error: `unknown op ${operation.op}` };
    }
  } catch (err) {
    return { ok: false, error: err.name, message: err.message };
  }
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const operations = JSON.parse(input);
  process.stdout.write(JSON.stringify(operations.map(run)));
});

// The calls VideoSDK's sample client apps make to their auth server (the example servers'
// three routes), in node's own fetch, as their api.js makes them:
//   GET  {AUTH_URL}/get-token                      -> {token}
//   POST {AUTH_URL}/create-meeting/  {token, region} -> {roomId, ...}
//   POST {AUTH_URL}/validate-meeting/<roomId> {token} -> {roomId, ...}
// Reads {"authUrl", "headers", "region", "getTokenQuery"} on stdin and writes the statuses
// and JSON bodies of the three calls on stdout. `headers` is what a team adds to switch an
// app over to Token Console (the Authorization header); nothing else differs.
'use strict';

async function call(url, options) {
  const response = await fetch(url, options);
  const text = await response.text();
  let body;
  try { body = JSON.parse(text); } catch (error) { body = { notJson: text.slice(0, 200) }; }
  return { status: response.status, contentType: response.headers.get('content-type'), body };
}

async function main() {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const { authUrl, headers, region, getTokenQuery } = JSON.parse(input);
  const json = { 'Content-Type': 'application/json', ...headers };
  const getToken = await call(`${authUrl}/get-token${getTokenQuery || ''}`,
                              { method: 'GET', headers });
  const token = getToken.body.token;
  const created = await call(`${authUrl}/create-meeting/`, {
    method: 'POST', headers: json, body: JSON.stringify({ token, region }),
  });
  const roomId = created.body.roomId || 'abcd-efgh-ijkl';
  const validated = await call(`${authUrl}/validate-meeting/${roomId}`, {
    method: 'POST', headers: json, body: JSON.stringify({ token }),
  });
  process.stdout.write(JSON.stringify({ getToken, created, validated }));
}

main().catch((error) => { process.stderr.write(String(error.stack || error)); process.exit(1); });

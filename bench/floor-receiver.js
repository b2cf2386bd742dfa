// The least any HTTP upload endpoint must do, as a yardstick for the api: a bare Node HTTP server
// that streams each request body into a new file (no multipart parsing, no checks, no database).
// The bench uploads the photo set to it with the same client and measures its CPU.
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const dir = process.argv[2];
let count = 0;
const server = http.createServer((req, res) => {
  const file = path.join(dir, `upload-${(count += 1)}`);
  const out = fs.createWriteStream(file);
  req.pipe(out);
  out.once('finish', () =>
    fs.rm(file, { force: true }, () => res.writeHead(201, { 'content-type': 'application/json' }).end('{"jobs":[]}')),
  );
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('disconnect', () => process.exit(0));

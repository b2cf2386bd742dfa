// The least any HTTP upload endpoint must do, as a yardstick for the api: a bare Node HTTP server
// that streams each request body into a new file (no multipart parsing, no checks, no database).
// The bench uploads the photo set to it with the same client and measures its CPU.
// With a second argument `contract` it also does what the contract asks of every byte the api
// receives, and nothing else: the multipart body parsed with busboy (the parser multer uses) and
// the file's SHA-256 (the Job's contentHash, for duplicates) on its way to the file.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { pipeline, Transform } = require('node:stream');

const dir = process.argv[2];
const contract = process.argv[3] === 'contract';
const busboy = contract ? require('busboy') : undefined;
let count = 0;

function created(res) {
  res.writeHead(201, { 'content-type': 'application/json' }).end('{"jobs":[]}');
}

const server = http.createServer((req, res) => {
  const file = path.join(dir, `upload-${(count += 1)}`);
  if (!contract) {
    const out = fs.createWriteStream(file);
    req.pipe(out);
    out.once('finish', () => fs.rm(file, { force: true }, () => created(res)));
    return;
  }
  let parser;
  try {
    parser = busboy({ headers: req.headers });
  } catch {
    res.writeHead(400).end();
    return;
  }
  const refuse = () => {
    req.unpipe(parser);
    req.resume();
    if (!res.headersSent) res.writeHead(400).end();
  };
  parser.once('error', refuse);
  req.once('error', () => parser.destroy());
  const written = [];
  parser.on('file', (_field, stream) => {
    const hash = crypto.createHash('sha256');
    const tap = new Transform({
      transform(chunk, _encoding, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    written.push(
      new Promise((resolve, reject) =>
        pipeline(stream, tap, fs.createWriteStream(file), (error) => (error ? reject(error) : resolve(hash.digest('hex')))),
      ),
    );
  });
  parser.once('close', () =>
    Promise.all(written).then(
      () => fs.rm(file, { force: true }, () => created(res)),
      () => res.writeHead(500).end(),
    ),
  );
  req.pipe(parser);
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('disconnect', () => process.exit(0));

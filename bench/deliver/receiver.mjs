// A keep-alive `node:http` receiver for bench/deliver, run in its own process.
import http from 'node:http';

const reply = Buffer.from('{"ok":true}');
const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  let bytes = 0;
  req.on('data', (c) => {
    bytes += c.length;
  });
  req.on('end', () => {
    res.writeHead(bytes > 0 ? 200 : 400, {
      'content-type': 'application/json',
      'content-length': reply.length,
    });
    res.end(reply);
  });
});
server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: server.address().port });
});
process.on('disconnect', () => process.exit(0));

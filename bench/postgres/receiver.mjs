// A keep-alive `node:http` receiver for bench/postgres, run in its own process. Counts requests.
import http from 'node:http';

let count = 0;
const reply = Buffer.from('ok');
const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  req.resume();
  req.on('end', () => {
    count++;
    res.writeHead(200, { 'content-length': reply.length });
    res.end(reply);
  });
});
server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: server.address().port });
});
process.on('message', (m) => {
  if (m === 'count') process.send?.({ count });
});
process.on('disconnect', () => process.exit(0));

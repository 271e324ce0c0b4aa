// A plain Node.js HTTP app: `npm start` (the image's process) listens on $PORT (8080 by default).
import { createServer } from 'node:http';
import ms from 'ms';

const started = Date.now();
const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.end(`Hello from node-app at ${url.pathname} (up ${ms(Date.now() - started)})\n`);
});
server.listen(Number(process.env.PORT ?? 8080), () =>
  console.log(`node-app listening on ${process.env.PORT ?? 8080}`),
);
process.on('SIGTERM', () => server.close());

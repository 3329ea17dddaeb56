import net from 'node:net';

/**
 * Writes `request` as it is on a fresh connection to `port` and reads until the server closes it
 * (or `giveUpMs` passes, so a server that never answers fails the test rather than hangs it).
 */
export async function sendRaw(port: number, request: string, giveUpMs = 5_000) {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined); // the server closes as it answers
  socket.write(request);
  const giveUp = setTimeout(() => socket.destroy(), giveUpMs);
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  clearTimeout(giveUp);
  const text = Buffer.concat(chunks).toString('utf8');
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(
    headerLines.map((line) => {
      const at = line.indexOf(':');
      return [line.slice(0, at).toLowerCase(), line.slice(at + 1).trim()];
    }),
  );
  return { status: Number(statusLine.split(' ')[1]), headers, body, text };
}

/**
 * Load generator of the poll benchmark, run as its own process so it does not share an event
 * loop with the server. Each connection cycles through its own slice of the devices, sending
 * the device's key and current ETag; requests are built once, so the generator spends its time
 * on the wire, not on building requests. Prints the autocannon result as one JSON line.
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

interface Device {
  uuid: string;
  key: string;
  etag: string;
}

const [port, devicesFile, connections, seconds] = process.argv.slice(2);
const devices = JSON.parse(readFileSync(devicesFile as string, 'utf8')) as Device[];
const connectionCount = Number(connections);
const perConnection = Math.ceil(devices.length / connectionCount);
let nextSlice = 0;

const requestOf = (device: Device) => ({
  method: 'GET' as const,
  path: `/api/v1/device/${device.uuid}/state`,
  headers: { authorization: `Bearer ${device.key}`, 'if-none-match': device.etag },
});

const result = await autocannon({
  url: `http://127.0.0.1:${port}`,
  connections: connectionCount,
  duration: Number(seconds),
  requests: [requestOf(devices[0] as Device)],
  setupClient(client) {
    const start = (nextSlice++ % connectionCount) * perConnection;
    client.setRequests(devices.slice(start, start + perConnection).map(requestOf));
  },
});
process.stdout.write(
  `${JSON.stringify({ requests: result.requests.total, seconds: result.duration, statusCodes: result.statusCodeStats, errors: result.errors, timeouts: result.timeouts })}\n`,
);

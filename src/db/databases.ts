import pg from 'pg';

const NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Creates database `name` on the server of `serverUrl`; returns the new database's URL. */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  await withClient(serverUrl, (client) => client.query(`create database ${identifier(name)}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops database `name` on the server of `serverUrl`, ending its sessions first. */
export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await withClient(serverUrl, (client) =>
    client.query(`drop database if exists ${identifier(name)} with (force)`),
  );
}

function identifier(name: string): string {
  if (!NAME.test(name)) throw new Error(`invalid database name "${name}"`);
  return name;
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  // a dropped connection fails the query in flight; without a listener it would also crash us
  client.on('error', () => {});
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

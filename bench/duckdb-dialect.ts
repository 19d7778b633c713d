/**
 * A minimal Kysely dialect for DuckDB, for the report benchmark's reference engine (not product
 * code). DuckDB reads PostgreSQL's spelling of everything the report SQL uses (window functions,
 * VALUES, `cast(x as json) ->> 'k'`, `$1` parameters), so the dialect is Kysely's PostgreSQL query
 * compiler and adapter over a small driver that runs the compiled SQL through @duckdb/node-api,
 * and the Store it makes says dialect 'postgres': `runReport` runs unchanged on it.
 *
 * Results are converted the way pg (with the store's BIGINT parser) and better-sqlite3 hand them
 * to the report code: BIGINT, HUGEINT (DuckDB's type for sum() of integers) and DECIMAL as JS
 * numbers, not bigint or DuckDBDecimalValue objects.
 */
import {
  DuckDBConnection,
  DuckDBDecimalValue,
  DuckDBInstance,
  DuckDBTypeId,
  JSDuckDBValueConverter,
  type DuckDBValue,
  type DuckDBValueConverter,
  type JS,
} from '@duckdb/node-api';
import {
  CompiledQuery,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';
import type { Store } from '../src/store/db.js';
import type { Database } from '../src/store/schema.js';

/** DuckDB values as the report code expects them from pg / better-sqlite3. */
const toJs: DuckDBValueConverter<JS> = (value, type, converter) => {
  if (value === null) return null;
  switch (type.typeId) {
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.UHUGEINT:
      // Counts, sums and epoch milliseconds: all far below 2^53 at this data size.
      return Number(value as bigint);
    case DuckDBTypeId.DECIMAL:
      // A literal such as 86400000.0 is DECIMAL in DuckDB; pg would return such a value as text
      // and the report code would Number() it, so a double is what the code sees either way.
      return (value as DuckDBDecimalValue).toDouble();
    default:
      return JSDuckDBValueConverter(value, type, converter);
  }
};

class DuckDBKyselyConnection implements DatabaseConnection {
  constructor(readonly conn: DuckDBConnection) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const params = compiled.parameters.map(toParameter);
    const reader = await this.conn.runAndReadAll(quoteAt(compiled.sql), params);
    const rows = reader.convertRowObjects(toJs) as R[];
    const changed = reader.rowsChanged;
    return { rows, ...(changed > 0 ? { numAffectedRows: BigInt(changed) } : {}) };
  }

  // eslint-disable-next-line require-yield -- Kysely's interface wants a generator; nothing here streams
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('the DuckDB benchmark dialect does not stream');
  }
}

/**
 * `at` is a column of several tables (activities, owner_history, …). PostgreSQL and SQLite take it
 * unquoted; DuckDB reserves the word (time travel, `AT (VERSION => …)`), so an unqualified `at`
 * (owner_spans in src/store/reports/adoption.ts) is a syntax error there. Quoting a bare `at`
 * outside string literals changes nothing else; `x.at` parses in DuckDB as it is.
 */
export function quoteAt(text: string): string {
  return text
    .split(/('(?:[^']|'')*')/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/(?<![\w."])at(?![\w"])(?!\s+time\s+zone)/gi, '"at"')))
    .join('');
}

/** Kysely hands parameters as unknown; the report SQL binds numbers, strings, booleans and null. */
function toParameter(v: unknown): DuckDBValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'bigint') return v;
  throw new Error(`unsupported parameter for DuckDB: ${typeof v}`);
}

class DuckDBDriver implements Driver {
  private readonly free: DuckDBKyselyConnection[] = [];

  constructor(private readonly instance: DuckDBInstance) {}

  async init(): Promise<void> {}

  // Reports run some queries concurrently (Promise.all): each gets a connection of its own, as a
  // pg pool would give; DuckDB connections to one instance are cheap and see the same data.
  async acquireConnection(): Promise<DatabaseConnection> {
    const c = this.free.pop();
    if (c) return c;
    const conn = await this.instance.connect();
    await setUp(conn);
    return new DuckDBKyselyConnection(conn);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin transaction'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    this.free.push(connection as DuckDBKyselyConnection);
  }

  async destroy(): Promise<void> {
    for (const c of this.free.splice(0)) c.conn.closeSync();
  }
}

/**
 * PostgreSQL and SQLite divide integers by integers as integers; DuckDB's `/` divides as doubles
 * unless told otherwise. The report SQL relies on the integer division (the median and p90 ranks
 * in distribution.ts), so the reference engine is set to PostgreSQL's semantics here.
 */
async function setUp(conn: DuckDBConnection): Promise<void> {
  await conn.run('set integer_division = true');
}

/** Kysely's PostgreSQL pieces; the migration lock (pg_advisory_xact_lock) is never used here. */
class DuckDBAdapter extends PostgresAdapter {
  override async acquireMigrationLock(): Promise<void> {}
  override async releaseMigrationLock(): Promise<void> {}
}

export class DuckDBDialect implements Dialect {
  constructor(private readonly instance: DuckDBInstance) {}
  createAdapter(): DialectAdapter {
    return new DuckDBAdapter();
  }
  createDriver(): Driver {
    return new DuckDBDriver(this.instance);
  }
  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }
  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }
}

export interface DuckStore extends Store {
  instance: DuckDBInstance;
  /** A connection of its own for the Appender (bulk loading). */
  loader: DuckDBConnection;
}

/** A DuckDB database (':memory:' or a file) as a Store that report code treats as PostgreSQL. */
export async function openDuckStore(path: string): Promise<DuckStore> {
  const instance = await DuckDBInstance.create(path);
  const loader = await instance.connect();
  await setUp(loader);
  const db = new Kysely<Database>({ dialect: new DuckDBDialect(instance) });
  return {
    db,
    dialect: 'postgres',
    location: `duckdb:${path}`,
    instance,
    loader,
    close: async () => {
      await db.destroy();
      loader.closeSync();
      instance.closeSync();
    },
  };
}

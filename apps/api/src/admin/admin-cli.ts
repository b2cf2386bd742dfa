import { DynamicModule, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Operators, OperatorsModule, User } from '@app/auth';
import { AppConfig, DatabaseModule, DomainError } from '@app/core';

const USAGE = `Usage: npm run admin -- <command>
  grant <email>    make the registered account with this email an operator (queue dashboard)
  revoke <email>   take operator rights away
  list             the operators' emails`;

@Module({})
class AdminCliModule {
  static forRoot(config: AppConfig): DynamicModule {
    return { module: AdminCliModule, imports: [DatabaseModule.forRoot(config.database), OperatorsModule.forRoot(config.database)] };
  }
}

/**
 * `npm run admin -- grant|revoke|list [email]`: the one way to make an operator. It runs on the
 * server, against the database of DATABASE_URL (SQLite or MongoDB, migrated as the api would),
 * so nobody can do it over HTTP. Resolves the exit code.
 */
export async function runAdminCli(args: readonly string[], config: AppConfig, out = process.stdout, err = process.stderr): Promise<number> {
  const [command, email, ...rest] = args;
  const needsEmail = command === 'grant' || command === 'revoke';
  if (!(needsEmail || command === 'list') || (needsEmail ? !email : email !== undefined) || rest.length > 0) {
    err.write(`${USAGE}\n`);
    return 2;
  }
  const context = await NestFactory.createApplicationContext(AdminCliModule.forRoot(config), { logger: ['error', 'warn'] });
  try {
    const operators = context.get(Operators);
    if (command === 'list') {
      for (const user of await operators.list()) out.write(`${user.email}\n`);
      return 0;
    }
    const user: User = command === 'grant' ? await operators.grant(email) : await operators.revoke(email);
    out.write(`${user.email} ${user.role === 'admin' ? 'is now an operator' : 'is no longer an operator'} (from their next request on)\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    err.write(`${error.message}\n`);
    return 1;
  } finally {
    await context.close();
  }
}

import { Injectable } from '@nestjs/common';
import * as bcrypt from 'bcryptjs';
import { AppConfig } from '@app/core';

/** bcrypt (bcryptjs) with the configured cost, never below 10. */
@Injectable()
export class PasswordHasher {
  /** A hash of a random password at the same cost, compared against when an email is unknown. */
  private decoy?: Promise<string>;

  constructor(private readonly config: AppConfig) {}

  hash(password: string): Promise<string> {
    return bcrypt.hash(password, Math.max(10, this.config.auth.bcryptCost));
  }

  verify(password: string, hash: string): Promise<boolean> {
    return bcrypt.compare(password, hash);
  }

  /** Spends the same time as `verify` so an unknown email cannot be told from a wrong password. */
  async verifyAgainstDecoy(password: string): Promise<false> {
    this.decoy ??= this.hash(`decoy-${Math.random()}`);
    await bcrypt.compare(password, await this.decoy);
    return false;
  }
}

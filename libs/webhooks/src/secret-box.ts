import { Injectable } from '@nestjs/common';
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { AppConfig } from '@app/core';

const VERSION = 'v1';

/**
 * Webhook signing secrets at rest: AES-256-GCM under a key derived (HKDF) from the server secret,
 * bound to the webhook's id. Unlike API keys they cannot be stored hashed: the worker needs the
 * secret itself to sign each delivery. A copy of the database alone does not reveal them.
 */
@Injectable()
export class SecretBox {
  private readonly key: Buffer;

  constructor(config: AppConfig) {
    this.key = Buffer.from(hkdfSync('sha256', config.auth.jwtSecret, 'thumbs', 'webhook-secrets-v1', 32));
  }

  /** `v1.<iv>.<tag>.<ciphertext>` (base64url) of `secret`, valid only for webhook `id`. */
  seal(id: string, secret: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(id));
    const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), sealed]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  /** The secret sealed by `seal` for webhook `id`; throws when it was sealed for another id or under another key. */
  open(id: string, sealed: string): string {
    const [version, iv, tag, data] = sealed.split('.');
    if (version !== VERSION || !iv || !tag || data === undefined) throw new Error('Not a sealed webhook secret');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(id));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
  }
}
